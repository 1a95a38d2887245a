"""Sign-in throughput and latency (issue 3 figures).

* argon2id cost chosen (``identity.password``): time of one hash and one verify;
* portal sign-ins: POST /connexion over HTTPS to uvicorn on loopback, C concurrent
  clients, each a full argon2 verification (sign-ins/s, p50, p99);
* protocol sign-ins (the IMAP door of the authentication service) with a warm
  verified-credentials cache: C concurrent tasks (sign-ins/s, p50, p99).
Target: ≥ 2,000 protocol sign-ins/s with a warm cache. Prints a table and a JSON line.
Usage: .venv/bin/python bench/auth.py [--agents N] [--pg URL] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import re
import socket
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import uvicorn

from academail.config import Settings
from academail.identity.authenticate import AuthContext, Door
from academail.identity.passwords import HashCost, hasher
from academail.runtime import initialise, open_platform, tls_files
from academail.web import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fixtures, from anywhere
PASSWORD = "Picardie-Somme-2026!"  # noqa: S105 - the password tests.fixtures.agents gives


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def _protocol(platform, logins: list[str], concurrency: int, seconds: float) -> dict:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        ctx = AuthContext(Door.IMAP, f"10.0.{n}.1", "bench")
        i = n
        while time.perf_counter() < stop:
            login = logins[i % len(logins)]
            start = time.perf_counter()
            result = await platform.authenticator.authenticate(login, PASSWORD, ctx)
            latencies.append(time.perf_counter() - start)
            assert result.ok
            i += concurrency

    for login in logins:  # warm the cache
        await platform.authenticator.authenticate(
            login, PASSWORD, AuthContext(Door.IMAP, "10.9.9.9", "bench")
        )
    began = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - began
    return {
        "per_s": len(latencies) / elapsed,
        "p50_ms": _pct(latencies, 0.5),
        "p99_ms": _pct(latencies, 0.99),
        "n": len(latencies),
    }


async def _portal(platform, logins: list[str], concurrency: int, seconds: float) -> dict:
    cert, key = tls_files(platform.settings)
    port = _free_port()
    config = uvicorn.Config(
        create_app(platform),
        host="127.0.0.1",
        port=port,
        ssl_certfile=cert,
        ssl_keyfile=key,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    base = f"https://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=cert)
    context.check_hostname = False
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        async with httpx2.AsyncClient(base_url=base, verify=context) as client:
            i = n
            while time.perf_counter() < stop:
                page = await client.get("/connexion")
                token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
                start = time.perf_counter()
                response = await client.post(
                    "/connexion",
                    data={
                        "csrf": token,
                        "identifiant": logins[i % len(logins)],
                        "mot_de_passe": PASSWORD,
                    },
                    headers={"origin": base.split("://")[0] + "://" + f"127.0.0.1:{port}"},
                )
                latencies.append(time.perf_counter() - start)
                assert response.status_code == 303, response.status_code
                client.cookies.clear()
                i += concurrency

    began = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - began
    server.should_exit = True
    await task
    return {
        "per_s": len(latencies) / elapsed,
        "p50_ms": _pct(latencies, 0.5),
        "p99_ms": _pct(latencies, 0.99),
        "n": len(latencies),
    }


def _argon2_cost(settings: Settings) -> dict:
    p = settings.identity.password
    h = hasher(HashCost(p.time_cost, p.memory_kib, p.parallelism))
    hashes, verifies = [], []
    for _ in range(10):
        start = time.perf_counter()
        encoded = h.hash(PASSWORD)
        hashes.append(time.perf_counter() - start)
        start = time.perf_counter()
        h.verify(encoded, PASSWORD)
        verifies.append(time.perf_counter() - start)
    return {
        "t": p.time_cost,
        "m_kib": p.memory_kib,
        "p": p.parallelism,
        "hash_ms": statistics.median(hashes) * 1000,
        "verify_ms": statistics.median(verifies) * 1000,
    }


async def run(store_url: str, agents: int, seconds: float) -> dict:
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    settings = dataclasses.replace(
        settings, store=dataclasses.replace(settings.store, url=store_url)
    )
    settings = dataclasses.replace(
        settings, web=dataclasses.replace(settings.web, allowed_hosts=["127.0.0.1"])
    )
    settings = dataclasses.replace(
        settings, auth=dataclasses.replace(settings.auth, ip_failure_limit=10**9)
    )
    await initialise(settings)
    from tests.fixtures.agents import active_agent  # after the sys.path line above

    async with open_platform(settings) as platform:
        logins = [(await active_agent(platform, n))[0] for n in range(1, agents + 1)]
        return {
            "argon2": _argon2_cost(settings),
            "protocol_warm_cache": await _protocol(platform, logins, 32, seconds),
            "portal_https": await _portal(platform, logins, 4, seconds),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--pg", default=os.environ.get("ACADEMAIL_TEST_DATABASE_URL", ""))
    args = parser.parse_args()
    figures = {}
    stores = [("sqlite", "")]
    if args.pg:
        import asyncpg

        async def fresh() -> str:
            name = f"bench_auth_{os.getpid()}"
            conn = await asyncpg.connect(args.pg)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()
            return args.pg.rsplit("/", 1)[0] + "/" + name

        stores.append(("postgresql", asyncio.run(fresh())))
    for name, url in stores:
        figures[name] = asyncio.run(run(url, args.agents, args.seconds))
    a = figures["sqlite"]["argon2"]
    cost = f"argon2id t={a['t']} m={a['m_kib']} KiB p={a['p']}"
    print(f"{cost}: hash {a['hash_ms']:.1f} ms, verify {a['verify_ms']:.1f} ms")
    print(f"{'store':<12}{'door':<22}{'per s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, f in figures.items():
        for door in ("protocol_warm_cache", "portal_https"):
            d = f[door]
            print(
                f"{name:<12}{door:<22}{d['per_s']:>10.0f}{d['p50_ms']:>10.1f}{d['p99_ms']:>10.1f}"
            )
    print(json.dumps({"cores": os.cpu_count(), "figures": figures}))


if __name__ == "__main__":
    main()
