"""``academail queue list|retry|delete`` as an operator uses them, on both stores."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from typer.testing import CliRunner

from academail.blobs import blob_key
from academail.cli import app
from academail.delivery import compose_text
from academail.runtime import open_platform
from academail.store.tables import blob_refs, mail_queue
from tests.conftest import cheap_settings


@pytest.fixture(autouse=True)
def _logging_back_to_defaults():
    yield
    structlog.reset_defaults()


@pytest.fixture
def cli(tmp_path: Path, store_url: str):
    env = {
        "ACADEMAIL_DATA_DIR": str(tmp_path / "data"),
        "ACADEMAIL_STORE_URL": store_url,
        "ACADEMAIL_IDENTITY_TEMPORARY_PASSWORD_MEMORY_KIB": "8",
        "ACADEMAIL_IDENTITY_PASSWORD_MEMORY_KIB": "8",
        "COLUMNS": "250",
    }
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    assert invoke("init").exit_code == 0
    return invoke


def _in_platform(tmp_path: Path, store_url: str, work):
    async def go():
        async with open_platform(cheap_settings(tmp_path / "data", store_url)) as platform:
            return await work(platform)

    return asyncio.run(go())


def _enqueue(tmp_path: Path, store_url: str, sender: str, recipients: list[str]) -> bytes:
    async def work(platform):
        raw = compose_text(
            sender or "Robot <robot@ac-amiens.fr>",
            recipients,
            "Conseil de classe",
            "Le conseil aura lieu mardi.",
            platform.clock,
            "ac-amiens.fr",
        )
        await platform.queue.enqueue(sender, recipients, raw, None)
        return raw

    return _in_platform(tmp_path, store_url, work)


def _listed(cli) -> list[dict]:
    result = cli("queue", "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_shows_each_recipient_without_content(cli, tmp_path, store_url):
    assert "La file d'attente est vide." in cli("queue", "list").output
    _enqueue(tmp_path, store_url, "jeanne.dupont@ac-amiens.fr", ["a@example.net", "b@example.org"])
    _enqueue(tmp_path, store_url, "", ["c@example.net"])
    result = cli("queue", "list")
    assert result.exit_code == 0, result.output
    assert "2 destinataire(s)" not in result.output and "3 destinataire(s)" in result.output
    for text in (
        "jeanne.dupont@ac-amiens.fr",
        "a@example.net",
        "b@example.org",
        "<>",
        "en attente",
    ):
        assert text in result.output
    assert "Conseil" not in result.output and "mardi" not in result.output
    rows = _listed(cli)
    assert [(r["sender"], r["recipient"], r["state"], r["attempts"]) for r in rows] == [
        ("jeanne.dupont@ac-amiens.fr", "a@example.net", "queued", 0),
        ("jeanne.dupont@ac-amiens.fr", "b@example.org", "queued", 0),
        ("", "c@example.net", "queued", 0),
    ]
    assert json.loads(cli("queue", "list", "--json", "--etat", "captured").stdout) == []
    assert cli("queue", "list", "--etat", "perdu").exit_code == 2


def _postpone(tmp_path: Path, store_url: str) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)

    async def work(platform):
        await platform.store.run(
            lambda c: c.execute(
                mail_queue.update().values(next_attempt_at=later, attempts=2, last_error="x")
            )
        )

    _in_platform(tmp_path, store_url, work)


def test_retry_makes_rows_due_now(cli, tmp_path, store_url):
    _enqueue(tmp_path, store_url, "jeanne.dupont@ac-amiens.fr", ["a@example.net", "b@example.net"])
    _postpone(tmp_path, store_url)
    first, second = (r["id"] for r in _listed(cli))
    assert cli("queue", "retry").exit_code == 2  # ids or --all
    assert cli("queue", "retry", str(first), "--all").exit_code == 2
    result = cli("queue", "retry", str(first), "999")
    assert result.exit_code == 0, result.output
    assert "1 ligne(s) à réessayer" in result.output and "999" in result.output
    now = dt.datetime.now(dt.UTC)
    due = {r["id"]: dt.datetime.fromisoformat(r["next_attempt_at"]) <= now for r in _listed(cli)}
    assert due == {first: True, second: False}
    assert "2 ligne(s) à réessayer" in cli("queue", "retry", "--all").output
    assert all(
        dt.datetime.fromisoformat(r["next_attempt_at"]) <= now + dt.timedelta(minutes=1)
        for r in _listed(cli)
    )
    assert {r["attempts"] for r in _listed(cli)} == {2}  # a retry is not an attempt


def _refcount(tmp_path: Path, store_url: str, raw: bytes) -> int:
    key = blob_key(raw)

    async def work(platform):
        found = await platform.store.run(
            lambda c: (
                c.execute(sa.select(blob_refs.c.refcount).where(blob_refs.c.blob_key == key))
                .scalars()
                .all()
            )
        )
        return int(found[0]) if found else 0

    return _in_platform(tmp_path, store_url, work)


def test_delete_gives_back_references_and_bounces_only_when_asked(cli, tmp_path, store_url):
    raw = _enqueue(tmp_path, store_url, "parent@example.org", ["a@example.net", "b@example.net"])
    first, second = (r["id"] for r in _listed(cli))
    assert _refcount(tmp_path, store_url, raw) == 2

    result = cli("queue", "delete", str(first))
    assert result.exit_code == 0 and "1 ligne(s) supprimée(s)" in result.output
    assert "avis" not in result.output
    assert [r["id"] for r in _listed(cli)] == [second]  # no DSN queued
    assert _refcount(tmp_path, store_url, raw) == 1

    result = cli("queue", "delete", str(second), "--bounce")
    assert result.exit_code == 0, result.output
    assert "1 avis de non-distribution envoyé(s)" in result.output
    assert _refcount(tmp_path, store_url, raw) == 0
    (dsn,) = _listed(cli)  # the remote sender's DSN waits in the queue, from <>
    assert (dsn["sender"], dsn["recipient"]) == ("", "parent@example.org")

    missing = cli("queue", "delete", "4242")
    assert missing.exit_code == 2 and "aucune ligne ne correspond : 4242" in missing.output


def test_the_null_sender_gets_no_dsn_even_with_bounce(cli, tmp_path, store_url):
    _enqueue(tmp_path, store_url, "", ["a@example.net"])
    (row,) = _listed(cli)
    result = cli("queue", "delete", str(row["id"]), "--bounce")
    assert result.exit_code == 0 and "0 avis de non-distribution" in result.output
    assert _listed(cli) == []
