"""Shared fixtures: settings with cheap costs, a fresh store on SQLite *and* PostgreSQL.

``backend`` parametrises every test that uses ``store_url`` (directly or through
``platform``) over both dialects (style.md §12). PostgreSQL comes from
``ACADEMAIL_TEST_DATABASE_URL`` (an administrative connection: each test gets its
own database cloned from a migrated template). When it is unset or unreachable the
PostgreSQL half is skipped on a developer's machine, and fails under ``CI=true``.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from academail.config import Argon2Profile, Settings
from academail.core.clock import FakeClock
from academail.runtime import Platform, initialise, open_platform

PG_ADMIN_URL = os.environ.get("ACADEMAIL_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
CHEAP = Argon2Profile(time_cost=1, memory_kib=8, parallelism=1)


def cheap_settings(data_dir: Path, url: str = "") -> Settings:
    """Default settings with the cheapest argon2 (tests only, injected: style.md §14)."""
    base = Settings()
    identity = dataclasses.replace(base.identity, password=CHEAP, temporary_password=CHEAP)
    store = dataclasses.replace(base.store, url=url, pool_size=2)
    # Building the French captcha voices costs ~0.7 s of espeak-ng per init: off here.
    auth = dataclasses.replace(base.auth, captcha_french_voices=False, failure_floor_ms=0)
    return dataclasses.replace(base, data_dir=data_dir, identity=identity, store=store, auth=auth)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _pg_reachable() -> str | None:
    if not PG_ADMIN_URL:
        return "ACADEMAIL_TEST_DATABASE_URL is not set"
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL unreachable at ACADEMAIL_TEST_DATABASE_URL: {exc}"
    await conn.close()
    return None


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
async def pg_template(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str | None]:
    """A migrated template database, created once per session (None when unavailable)."""
    problem = await _pg_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true and {problem}")
        yield None
        return
    name = f"academail_tpl_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    settings = cheap_settings(tmp_path_factory.mktemp("tpl"), _with_database(PG_ADMIN_URL, name))
    await initialise(settings)
    yield name
    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store_url(backend: str, tmp_path: Path, pg_template: str | None) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'academail.sqlite3'}"
        return
    if pg_template is None:
        pytest.skip("PostgreSQL not available (set ACADEMAIL_TEST_DATABASE_URL)")
    name = f"academail_t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    await admin.close()
    yield _with_database(PG_ADMIN_URL, name)
    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> Settings:
    return cheap_settings(tmp_path / "data", store_url)


@pytest.fixture
async def platform(settings: Settings, clock: FakeClock) -> AsyncIterator[Platform]:
    await initialise(settings)
    async with open_platform(settings, clock) as opened:
        yield opened
