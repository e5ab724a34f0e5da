"""The pictures jobs asked for, one PNG per job, in a table of their own on the shared SQLite file.

Why a table of its own: a PNG is up to a few hundred kilobytes, and the jobs table is read on every list,
claim and report; keeping the bytes out of it keeps those reads small. The row is written in the same
transaction as the job's result (the caller's `Database.write()`), so a job never shows a picture it does
not have, nor has one its result does not describe. Speaks no HTTP (see tests/test_architecture_layers.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kitgate.controller.db import Database

_DDL = [
    """CREATE TABLE job_images (
        job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
        png BLOB NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_at REAL NOT NULL
    )""",
]


@dataclass(frozen=True)
class StoredImage:
    job_id: str
    png: bytes
    width: int
    height: int
    sha256: str
    created_at: float


class ImageStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def migrate(self) -> None:
        self.db.migrate("job_images", _DDL)

    def put(self, job_id: str, png: bytes, width: int, height: int, sha256: str) -> None:
        """Store (or replace) a job's picture; joins the caller's transaction when there is one."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO job_images(job_id, png, width, height, sha256, created_at) VALUES(?,?,?,?,?,?)"
                " ON CONFLICT(job_id) DO UPDATE SET png=excluded.png, width=excluded.width,"
                " height=excluded.height, sha256=excluded.sha256, created_at=excluded.created_at",
                (job_id, png, width, height, sha256, self.clock()),
            )

    def get(self, job_id: str) -> StoredImage | None:
        row = self.db.connection().execute(
            "SELECT job_id, png, width, height, sha256, created_at FROM job_images WHERE job_id=?", (job_id,)
        ).fetchone()
        if row is None:
            return None
        return StoredImage(row["job_id"], bytes(row["png"]), int(row["width"]), int(row["height"]), row["sha256"],
                           float(row["created_at"]))
