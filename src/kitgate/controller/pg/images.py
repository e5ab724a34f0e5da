"""Job pictures on PostgreSQL: one bytea row per job, out of the jobs table so its reads stay small.

Why the same shape as the SQLite table (controller/images.py): the row is written in the caller's unit,
with the job's result, so a job never shows a picture it does not have; and it goes with its job
(ON DELETE CASCADE) when retention purges it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from kitgate.controller.images import StoredImage

if TYPE_CHECKING:
    from kitgate.controller.pg.backend import PgBackend


class PgImageStore:
    """backend.ImageStoreApi on PostgreSQL."""

    def __init__(self, backend: PgBackend, clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.clock = clock

    async def put(self, job_id: str, png: bytes, width: int, height: int, sha256: str) -> None:
        """Store (or replace) a job's picture; joins the caller's unit when there is one."""
        async with self.backend.transaction() as conn:
            await conn.execute(
                "INSERT INTO job_images(job_id, png, width, height, sha256, created_at) VALUES(%s,%s,%s,%s,%s,%s)"
                " ON CONFLICT (job_id) DO UPDATE SET png=excluded.png, width=excluded.width,"
                " height=excluded.height, sha256=excluded.sha256, created_at=excluded.created_at",
                (job_id, png, width, height, sha256, self.clock()))

    async def get(self, job_id: str) -> StoredImage | None:
        row = await self.backend.fetchone(
            "SELECT job_id, png, width, height, sha256, created_at FROM job_images WHERE job_id=%s", (job_id,))
        if row is None:
            return None
        return StoredImage(row["job_id"], bytes(row["png"]), int(row["width"]), int(row["height"]), row["sha256"],
                           float(row["created_at"]))
