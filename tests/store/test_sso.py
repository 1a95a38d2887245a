"""Single sign-on services on both stores: registry, secrets, tickets, keys, CLI."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from typer.testing import CliRunner

from academail.cli import app
from academail.core.errors import AlreadyExists, InvalidInput, NotFound
from academail.identity.sessions import Session
from academail.identity.sso import (
    CasFailure,
    load_signing_keys,
    rotate_signing_key,
    saml_logout_request,
)
from academail.runtime import Platform
from academail.store import sso as sso_repo
from academail.store.tables import audit_log, cas_tickets, oidc_clients
from tests.fixtures.agents import active_agent

SERVICE = "https://intranet.example.test/cas/retour"


async def _session(platform: Platform, account_id: str) -> Session:
    return await platform.sessions.start(account_id, "full", "127.0.0.1", "test")


async def test_client_secret_is_stored_as_a_keyed_hash(platform: Platform):
    registry = platform.sso.registry
    row, secret = await registry.add_client("Arena", ["https://arena.example.test/cb"])
    assert secret and len(secret) >= 43 and row.client_id == "arena"
    stored = await platform.store.run(
        lambda c: c.execute(sa.select(oidc_clients.c.secret_hash)).scalar_one()
    )
    assert stored != secret and secret not in stored and len(stored) == 64
    assert registry.secret_matches(row, secret) and not registry.secret_matches(row, secret + "x")
    with pytest.raises(AlreadyExists):
        await registry.add_client("Arena", ["https://arena.example.test/cb"])
    public, none = await registry.add_client("Mobile", ["https://m.example.test/cb"], public=True)
    assert none is None and public.secret_hash is None and not registry.secret_matches(public, "")
    actions = await platform.store.run(
        lambda c: [r.action for r in c.execute(sa.select(audit_log.c.action))]
    )
    assert actions.count("sso.client_added") == 2 and all(secret not in a for a in actions)
    await registry.remove_client("arena")
    with pytest.raises(NotFound):
        await registry.remove_client("arena")


@pytest.mark.parametrize(
    "uri",
    [
        "http://rp.example.test/cb",  # http only on loopback
        "https://rp.example.test/cb#frag",
        "https://user:pw@rp.example.test/cb",
        "rp.example.test/cb",
        "javascript:alert(1)",
    ],
)
async def test_registered_urls_are_checked(platform: Platform, uri: str):
    with pytest.raises(InvalidInput, match="redirect_uri"):
        await platform.sso.registry.add_client("X", [uri])


async def test_services_register_without_query_and_match_exactly(platform: Platform):
    registry = platform.sso.registry
    with pytest.raises(InvalidInput):
        await registry.add_service("Intranet", SERVICE + "?a=1")
    await registry.add_service("Intranet", SERVICE, "http://127.0.0.1:9/slo")
    assert (await registry.service_for(SERVICE + "?page=2")) is not None
    for other in (SERVICE + "/", SERVICE.upper(), SERVICE.replace("https", "http"), SERVICE[:-1]):
        assert await registry.service_for(other) is None
    with pytest.raises(AlreadyExists):
        await registry.add_service("Encore", SERVICE)


async def test_cas_ticket_mac_single_use_and_service(platform: Platform, clock):
    _, account_id = await active_agent(platform)
    await platform.sso.registry.add_service("Intranet", SERVICE)
    session = await _session(platform, account_id)
    cas = platform.sso.cas
    ticket = await cas.issue(SERVICE, session, primary=False)
    assert ticket.startswith("ST-S") and len(ticket) <= 32
    stored = await platform.store.run(
        lambda c: c.execute(sa.select(cas_tickets.c.ticket)).scalar_one()
    )
    assert stored != ticket and ticket.startswith(stored)  # the MAC half is not stored
    tampered = ticket[:-2] + ("xy" if not ticket.endswith("xy") else "zz")
    assert (await cas.validate(SERVICE, tampered, False)).failure is CasFailure.INVALID_TICKET
    ok = await cas.validate(SERVICE, ticket, False)  # the forgery did not burn the ticket
    assert ok.failure is None and dict(ok.attributes)["isFromNewLogin"] == "false"
    assert (await cas.validate(SERVICE, ticket, False)).failure is CasFailure.INVALID_TICKET
    with pytest.raises(NotFound):
        await cas.issue("https://evil.example/", session, primary=True)
    late = await cas.issue(SERVICE, session, primary=True)
    clock.advance(dt.timedelta(seconds=31))
    assert (await cas.validate(SERVICE, late, True)).failure is CasFailure.INVALID_TICKET


async def test_ticket_of_an_ended_session_is_refused(platform: Platform):
    _, account_id = await active_agent(platform)
    await platform.sso.registry.add_service("Intranet", SERVICE)
    session = await _session(platform, account_id)
    ticket = await platform.sso.cas.issue(SERVICE, session, primary=False)
    await platform.sessions.end(session)
    assert (await platform.sso.cas.validate(SERVICE, ticket, False)).failure is not None


async def test_code_is_used_once_even_in_a_race(platform: Platform, clock):
    _, account_id = await active_agent(platform)
    now = clock.now()
    row = sso_repo.CodeRow(
        "h" * 64, "arena", account_id, "s" * 64, "https://a/cb", "openid", None, "c" * 43,
        "S256", now, now + dt.timedelta(seconds=60), None,
    )  # fmt: skip
    await platform.store.run(lambda c: sso_repo.add_code(c, row))
    first = await platform.store.run(lambda c: sso_repo.use_code(c, row.code_hash, now))
    second = await platform.store.run(lambda c: sso_repo.use_code(c, row.code_hash, now))
    assert first and not second
    assert await platform.store.run(lambda c: sso_repo.nonce_used(c, "arena", "n")) is False
    clock.advance(dt.timedelta(hours=13))
    assert await platform.sso.purge() == 1


def test_signing_key_file_rotation_keeps_the_previous_public_key(tmp_path: Path):
    from academail.identity.sso import ensure_signing_key

    assert ensure_signing_key(tmp_path) and not ensure_signing_key(tmp_path)
    path = tmp_path / "keys" / "oidc-signing.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = load_signing_keys(tmp_path)
    assert before is not None and "PRIVATE" not in repr(before)
    token = before.sign({"sub": "x"})
    kid = rotate_signing_key(tmp_path)
    after = load_signing_keys(tmp_path)
    assert after is not None and after.kid == kid != before.kid
    assert [k["kid"] for k in after.jwks()["keys"]] == [kid, before.kid]
    assert all("d" not in k for k in after.jwks()["keys"])  # public halves only
    assert after.verified_claims(token) == {"sub": "x"}
    assert after.verified_claims(token[:-4] + "AAAA") is None


def test_discovery_document(platform: Platform):
    doc = platform.sso.oidc.discovery()
    assert doc["issuer"] == "https://moncompte.ac-amiens.fr"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert doc["backchannel_logout_supported"] and doc["backchannel_logout_session_supported"]
    assert "academie" in doc["scopes_supported"] and "role" in doc["claims_supported"]


def test_saml_logout_request_escapes_and_names_the_ticket(clock):
    xml = saml_logout_request("ST-S<x>", clock.now())
    assert "<samlp:SessionIndex>ST-S&lt;x&gt;</samlp:SessionIndex>" in xml
    assert 'Version="2.0"' in xml and 'IssueInstant="2026-09-01T08:00:00Z"' in xml


@pytest.fixture
def cli(tmp_path: Path, store_url: str):
    env = {
        "ACADEMAIL_DATA_DIR": str(tmp_path / "data"),
        "ACADEMAIL_STORE_URL": store_url,
        "COLUMNS": "200",
    }
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    assert invoke("init").exit_code == 0
    yield invoke
    structlog.reset_defaults()


def test_cli_registers_clients_and_services(cli, tmp_path: Path):
    added = cli(
        "sso", "client", "add", "Arena", "--redirect-uri", "https://arena.example.test/cb",
        "--backchannel-logout-uri", "https://arena.example.test/bcl",
    )  # fmt: skip
    assert added.exit_code == 0 and "client_id : arena" in added.output
    secret = next(
        line.split(" : ")[1] for line in added.output.splitlines() if "client_secret" in line
    )
    listing = cli("sso", "client", "list")
    assert "arena" in listing.output and secret not in listing.output
    refused = cli("sso", "client", "add", "X", "--redirect-uri", "http://evil.example/cb")
    assert refused.exit_code == 2 and "https obligatoire" in refused.output
    assert cli("sso", "service", "add", "Intranet", SERVICE).exit_code == 0
    assert SERVICE in cli("sso", "service", "list").output
    assert cli("sso", "service", "remove", SERVICE).exit_code == 0
    assert cli("sso", "client", "remove", "arena").exit_code == 0
    assert cli("sso", "client", "remove", "arena").exit_code == 2
    before = load_signing_keys(tmp_path / "data")
    rotated = cli("sso", "rotate-key")
    assert rotated.exit_code == 0 and "kid=" in rotated.output
    after = load_signing_keys(tmp_path / "data")
    assert before is not None and after is not None and after.kid != before.kid
