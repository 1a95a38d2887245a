"""The recovery service and its repositories on both stores: fixed-window counters,
single-use captchas and links under races, equal work for unknown accounts."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import re
import shutil

import pytest

from academail.identity.rate_limit import Limit, RateLimiter
from academail.identity.recovery import Outcome, ResetGrant, parse_birth_date
from academail.runtime import Platform, initialise, open_platform
from academail.store import captcha as captcha_repo
from academail.store import rate_counters as counter_repo
from tests.fixtures.agents import active_agent
from tests.fixtures.hr import export, numen, row

NEW_PASSWORD = "Baie-de-Somme-2027!"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1980-05-12", dt.date(1980, 5, 12)),
        ("12/05/1980", dt.date(1980, 5, 12)),
        (" 2/5/1980 ", dt.date(1980, 5, 2)),
        ("12.05.1980", dt.date(1980, 5, 12)),
        ("12051980", dt.date(1980, 5, 12)),
        ("31/02/1980", None),
        ("05/1980", None),
        ("", None),
        ("1980-05-12T00:00", None),
    ],
)
def test_parse_birth_date(text: str, expected: dt.date | None):
    assert parse_birth_date(text) == expected


async def test_fixed_windows(platform: Platform, clock):
    limiter = RateLimiter(platform.store, clock)
    limit = Limit("t", 3, dt.timedelta(minutes=15))
    assert [await limiter.hit(limit, "192.0.2.1") for _ in range(4)] == [True, True, True, False]
    assert await limiter.hit(limit, "192.0.2.2"), "each subject has its own counter"
    clock.advance(dt.timedelta(minutes=14))
    assert not await limiter.hit(limit, "192.0.2.1")
    clock.advance(dt.timedelta(minutes=1))
    assert await limiter.hit(limit, "192.0.2.1"), "a new window starts"
    count = await platform.store.run(
        lambda c: counter_repo.count_of(c, "t:192.0.2.1", clock.now(), limit.window)
    )
    assert count == 1


async def test_counters_lose_no_hit_under_concurrency(platform: Platform, clock):
    window = dt.timedelta(minutes=5)

    async def hit() -> int:
        return await platform.store.run(lambda c: counter_repo.hit(c, "race", clock.now(), window))

    counts = await asyncio.gather(*(hit() for _ in range(12)))
    assert sorted(counts) == list(range(1, 13))


async def test_old_counters_are_purged(platform: Platform, clock):
    limiter = RateLimiter(platform.store, clock)
    await limiter.hit(Limit("t", 3, dt.timedelta(minutes=1)), "x")
    clock.advance(dt.timedelta(days=2))
    await platform.recovery.new_captcha()  # the pages that create rows purge on the way
    long_ago = dt.timedelta(days=30)
    count = await platform.store.run(
        lambda c: counter_repo.count_of(c, "t:x", clock.now(), long_ago)
    )
    assert count == 0


async def test_captcha_take_is_single_use_even_when_racing(platform: Platform, clock):
    challenge = await platform.recovery.new_captcha()
    now = clock.now()
    answer = await platform.store.run(lambda c: captcha_repo.answer_of(c, challenge, now))
    assert answer is not None and re.fullmatch(r"\d{6}", answer)
    taken = await asyncio.gather(
        *(platform.store.run(lambda c: captcha_repo.take(c, challenge, now)) for _ in range(4))
    )
    assert taken.count(answer) == 1 and taken.count(None) == 3


async def test_captcha_expires(platform: Platform, clock):
    challenge = await platform.recovery.new_captcha()
    clock.advance(dt.timedelta(minutes=platform.settings.auth.captcha_minutes))
    now = clock.now()
    assert await platform.store.run(lambda c: captcha_repo.take(c, challenge, now)) is None


async def test_reset_link_is_single_use_under_a_race(platform: Platform):
    login, account_id = await active_agent(platform)
    assert await platform.recovery.request_reset(login, "192.0.2.1") is Outcome.OK
    body = await _mail(platform, "perso1@example.org")
    raw = re.search(r"jeton=([A-Za-z0-9_\-]+)", body).group(1)
    grant = await platform.recovery.reset_grant(raw)
    assert grant == ResetGrant(hashlib.sha256(raw.encode()).hexdigest(), account_id)
    results = await asyncio.gather(
        *(platform.recovery.finish_reset(grant, NEW_PASSWORD, "192.0.2.1") for _ in range(3))
    )
    assert sorted(results) == [False, False, True]
    assert await platform.recovery.reset_grant(raw) is None


async def test_a_new_link_voids_the_previous_one(platform: Platform):
    login, _ = await active_agent(platform)
    await platform.recovery.request_reset(login, "192.0.2.1")
    first = re.search(r"jeton=(\S+)", await _mail(platform, "perso1@example.org")).group(1)
    await platform.recovery.request_reset(login, "192.0.2.1")
    second = re.search(r"jeton=(\S+)", await _mail(platform, "perso1@example.org")).group(1)
    assert first != second
    assert await platform.recovery.reset_grant(first) is None
    assert await platform.recovery.reset_grant(second) is not None


async def test_reset_request_makes_the_same_round_trips_for_everyone(
    platform: Platform, monkeypatch
):
    login, _ = await active_agent(platform)
    report = await platform.staff.run(export(row(numen=numen(2))), "rh-2.csv")
    no_recovery = report.created[0].login
    calls = 0
    real_run = platform.store.run

    async def counting(work):
        nonlocal calls
        calls += 1
        return await real_run(work)

    monkeypatch.setattr(platform.store, "run", counting)
    trips = []
    for n, identifier in enumerate((login, "personne.inconnue", no_recovery, "")):
        await platform.notifier.settle()  # the previous mail, handed over in the background
        calls = 0
        assert await platform.recovery.request_reset(identifier, f"192.0.2.{n}") is Outcome.OK
        trips.append(calls)
    assert len(set(trips)) == 1, trips


async def test_identify_counts_the_numen_not_the_birth_date(platform: Platform, clock):
    await active_agent(platform)
    limit = platform.settings.auth.self_service_numen_limit
    for n in range(limit + 1):
        challenge = await platform.recovery.new_captcha()
        answer = await platform.store.run(
            lambda c, ch=challenge: captcha_repo.answer_of(c, ch, clock.now())
        )
        result = await platform.recovery.identify(
            numen(1), "1980-05-12", challenge, answer, f"192.0.2.{n}", "password"
        )
        expected = Outcome.OK if n < limit else Outcome.FAILED
        assert result.outcome is expected, n
    keys = await platform.store.run(
        lambda c: [r[0] for r in c.exec_driver_sql("SELECT key FROM rate_counters")]
    )
    assert numen(1) not in " ".join(keys)


async def _mail(platform: Platform, recipient: str) -> str:
    from academail.store import outbox

    found = await platform.store.run(lambda c: outbox.latest(c, recipient, limit=1))
    return found[0].body


@pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")), reason="espeak-ng and sox needed"
)
async def test_init_builds_french_voices_for_the_audio_captcha(settings, clock):
    settings = dataclasses.replace(
        settings, auth=dataclasses.replace(settings.auth, captcha_french_voices=True)
    )
    await initialise(settings)
    voices = settings.data_dir / "voices"
    assert sorted(p.name for p in voices.iterdir()) == list("0123456789")
    async with open_platform(settings, clock) as platform:
        challenge = await platform.recovery.new_captcha()
        sound = await platform.recovery.captcha_audio(challenge, "192.0.2.1")
    assert sound.startswith(b"RIFF")
