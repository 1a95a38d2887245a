"""Which shape for the store? Measures one business operation of 10 statements.

Compares, on the same schema and data:
  a) SQLAlchemy Core async over aiosqlite, statement by statement (the naive shape);
  b) SQLAlchemy Core sync in one dedicated SQLite thread, the whole unit per hop
     (academail's SqliteStore);
  c) SQLAlchemy Core async over asyncpg, statement by statement;
  d) the same sync unit through run_sync over asyncpg (academail's PostgresStore).
Prints a table and a final JSON line. Usage: python bench/store_shape.py [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from academail.store.engine import PostgresStore, SqliteStore

META = sa.MetaData()
T = sa.Table(
    "bench_rows",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.Integer, nullable=False),
    sa.Column("flags", sa.String(40), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
)
ROWS = 10_000
OPS = 300
STATEMENTS = 10


def _unit(conn: sa.Connection) -> int:
    total = 0
    for _ in range(STATEMENTS - 1):
        row = conn.execute(sa.select(T.c.uid).where(T.c.id == random.randint(1, ROWS))).first()
        total += row.uid if row else 0
    conn.execute(T.update().where(T.c.id == random.randint(1, ROWS)).values(flags="\\Seen"))
    return total


async def _per_statement(engine) -> float:
    start = time.perf_counter()
    for _ in range(OPS):
        async with engine.begin() as conn:
            for _ in range(STATEMENTS - 1):
                await conn.execute(sa.select(T.c.uid).where(T.c.id == random.randint(1, ROWS)))
            await conn.execute(
                T.update().where(T.c.id == random.randint(1, ROWS)).values(flags="x")
            )
    return (time.perf_counter() - start) / OPS * 1e6


async def _per_unit(store) -> float:
    start = time.perf_counter()
    for _ in range(OPS):
        await store.run(_unit)
    return (time.perf_counter() - start) / OPS * 1e6


def _fill(conn: sa.Connection) -> None:
    META.drop_all(conn)
    META.create_all(conn)
    conn.execute(
        T.insert(),
        [{"id": i, "uid": i, "flags": "", "subject": f"s{i}"} for i in range(1, ROWS + 1)],
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default=os.environ.get("ACADEMAIL_TEST_DATABASE_URL", ""))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, float] = {}
    folder = tempfile.mkdtemp()
    path = f"{folder}/bench.sqlite3"
    store = SqliteStore(f"sqlite:///{path}")
    await store.run(_fill)
    aio = create_async_engine(f"sqlite+aiosqlite:///{path}")
    results["sqlite_core_async_per_statement"] = statistics.median(
        [await _per_statement(aio) for _ in range(args.runs)]
    )
    await aio.dispose()
    results["sqlite_thread_unit_per_hop"] = statistics.median(
        [await _per_unit(store) for _ in range(args.runs)]
    )
    await store.close()
    if args.pg:
        pg = PostgresStore(args.pg.replace("postgresql://", "postgresql+asyncpg://", 1))
        await pg.run(_fill)
        results["pg_core_async_per_statement"] = statistics.median(
            [await _per_statement(pg.engine) for _ in range(args.runs)]
        )
        results["pg_run_sync_unit"] = statistics.median(
            [await _per_unit(pg) for _ in range(args.runs)]
        )
        await pg.run(lambda c: META.drop_all(c))
        await pg.close()
    print(f"{'shape':<36} {'µs per 10-statement operation':>30}")
    for name, value in results.items():
        print(f"{name:<36} {value:>30.0f}")
    print(
        json.dumps(
            {
                "machine": {"cores": os.cpu_count()},
                "ops": OPS,
                "statements_per_op": STATEMENTS,
                "us_per_op": {k: round(v) for k, v in results.items()},
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
