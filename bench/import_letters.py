"""HR import and credential letters at académie scale (issue 2 targets).

For N generated agents (default 45,000) on SQLite and, when a URL is given, on
PostgreSQL: full import time, no-change re-import time, letters per second (one
département's batch, argon2id of the temporary passwords included), peak memory.
Targets: import ≤ 30 s on SQLite, re-import ≤ 10 s, letters ≥ 300 pages/s.

Each store runs in its own subprocess so that peak memory is its own.
Usage: python bench/import_letters.py [--agents N] [--pg URL] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from academail.config import Settings
from academail.identity.hr import generate_export
from academail.letters import LetterSelection
from academail.runtime import initialise, open_platform


async def _one_run(agents: int, url: str, data: bytes) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp())
    settings = Settings(data_dir=folder)
    if url:
        import dataclasses

        settings = dataclasses.replace(settings, store=dataclasses.replace(settings.store, url=url))
    await initialise(settings)
    async with open_platform(settings) as platform:
        start = time.perf_counter()
        report = await platform.staff.run(data, "bench.csv")
        full = time.perf_counter() - start
        assert report.applied, report.aborted
        start = time.perf_counter()
        again = await platform.staff.run(data, "bench.csv")
        reimport = time.perf_counter() - start
        assert not again.created and not again.updated
        start = time.perf_counter()
        issued = await platform.letters.issue(
            LetterSelection(departement="80"), "bench", deliver=lambda _pdf: None
        )
        letters = time.perf_counter() - start
    return {
        "created": len(report.created),
        "import_s": full,
        "reimport_s": reimport,
        "letters": issued.count,
        "letters_s": letters,
        "pages_per_s": issued.count / letters,
        "pdf_mb": len(issued.pdf) / 1e6,
    }


def child(agents: int, url: str, runs: int) -> None:
    data = generate_export(agents).encode("utf-8")
    results = []
    for _ in range(runs):
        db_url = url
        if url:
            name = f"bench_{secrets.token_hex(4)}"
            subprocess.run(["psql", url, "-qc", f'CREATE DATABASE "{name}"'], check=True)
            db_url = url.rsplit("/", 1)[0] + "/" + name
        results.append(asyncio.run(_one_run(agents, db_url, data)))
        if url:
            subprocess.run(["psql", url, "-qc", f'DROP DATABASE "{name}" WITH (FORCE)'], check=True)
    summary = {key: statistics.median(r[key] for r in results) for key in results[0]}
    summary["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=45_000)
    parser.add_argument("--pg", default=os.environ.get("ACADEMAIL_TEST_DATABASE_URL", ""))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child is not None:
        child(args.agents, args.child, args.runs)
        return
    figures = {}
    for name, url in (("sqlite", ""), ("postgresql", args.pg)):
        if name == "postgresql" and not url:
            continue
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--agents",
                str(args.agents),
                "--runs",
                str(args.runs),
                "--child",
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        figures[name] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{args.agents} agents, median of {args.runs} runs, {os.cpu_count()} cores")
    header = ("import s", 10), ("re-import s", 13), ("letters", 9), ("pages/s", 9), ("peak MB", 9)
    print(f"{'store':<12}" + "".join(f"{name:>{width}}" for name, width in header))
    for name, f in figures.items():
        print(
            f"{name:<12}{f['import_s']:>10.1f}{f['reimport_s']:>13.1f}{f['letters']:>9.0f}{f['pages_per_s']:>9.0f}{f['peak_rss_mb']:>9.0f}"
        )
    print(
        json.dumps(
            {"agents": args.agents, "runs": args.runs, "cores": os.cpu_count(), "figures": figures}
        )
    )


if __name__ == "__main__":
    main()
