"""The cost of one waiting claimer's look (`has_claimable`) on each store, in one process.

Why: every new job wakes every waiting claimer on every replica, and each makes this read-only look
before one of them claims (BENCHMARKS.md, "Capacity model"). Its cost times idle workers times
submits per second is what an idle farm pays; this measures the first factor.

    .venv/bin/python bench/claim_look.py [--looks 3000] [--pg postgresql://postgres@127.0.0.1:5432/test]

PostgreSQL: a fresh schema, migrated, dropped afterwards. SQLite: a temporary data dir. The queue is
empty (the common case for a woken claimer that lost the race). Prints wall time and this process's CPU
per look; the PostgreSQL server's own share is not included.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import tempfile
import time
from pathlib import Path

import psycopg

from kitgate.controller.backend import open_backend
from kitgate.controller.pg import migrate
from kitgate.controller.security.keys import KeyRing
from kitgate.controller.settings import Settings


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _looks(settings: Settings, n: int) -> tuple[float, float]:
    backend = open_backend(settings)
    await backend.start()
    try:
        for _ in range(50):  # warm-up: pool, prepared statements, caches
            await backend.jobs.has_claimable(["gpu"], None)
        t0, c0 = time.perf_counter(), _cpu()
        for _ in range(n):
            await backend.jobs.has_claimable(["gpu"], None)
        return (time.perf_counter() - t0) / n * 1e3, (_cpu() - c0) / n * 1e3
    finally:
        await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--looks", type=int, default=3000)
    parser.add_argument("--pg", default=os.environ.get("KG_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.looks} looks per store")
    schema = f"look_{secrets.token_hex(4)}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{args.pg}?options=-csearch_path%3D{schema}"
    try:
        asyncio.run(migrate.apply(url))
        with tempfile.TemporaryDirectory() as tmp:
            keys = Path(tmp) / "keys"
            KeyRing(keys).load(create=True)
            stores = {"postgres": Settings(data_dir=Path(tmp) / "pg", database_url=url, keys_dir=keys),
                      "sqlite": Settings(data_dir=Path(tmp) / "sqlite")}
            for name, settings in stores.items():
                wall, cpu = asyncio.run(_looks(settings, args.looks))
                print(f"{name:9s} one look: wall {wall:.3f} ms, client CPU {cpu:.3f} ms")
    finally:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
