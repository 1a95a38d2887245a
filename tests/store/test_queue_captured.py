"""Capture mode (demo, tests): external mail kept in the queue, never sent, readable."""

from __future__ import annotations

import dataclasses

import pytest

from academail.config import Settings
from academail.delivery import compose_text
from academail.runtime import Platform
from academail.store import queue as queue_repo


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, queue=dataclasses.replace(settings.queue, capture=True))


async def test_captured_mail_is_kept_never_claimed_and_readable(platform: Platform):
    raw = compose_text(
        "Jeanne Dupont <jeanne.dupont@ac-amiens.fr>",
        ["parent@example.org", "autre@example.org"],
        "Réunion <parents>",
        "Bonjour,\n<b>pas du HTML</b>\nÀ bientôt",
        platform.clock,
        "ac-amiens.fr",
    )
    await platform.queue.enqueue(
        "jeanne.dupont@ac-amiens.fr", ["parent@example.org", "autre@example.org"], raw, None
    )
    other = compose_text(
        "Robot <robot@ac-amiens.fr>",
        ["x@example.org"],
        "Message 0",
        "Texte",
        platform.clock,
        "ac-amiens.fr",
    )
    await platform.queue.enqueue("", ["x@example.org"], other, None)
    assert {e.state for e in await platform.queue.entries()} == {"captured"}
    now = platform.clock.now()
    claimed = await platform.store.run(lambda c: queue_repo.claim_due(c, now, now, 100))
    assert claimed == []
    newest, oldest = await platform.queue.captured()
    assert newest.sender == "" and newest.subject == "Message 0"
    assert oldest.recipients == ["parent@example.org", "autre@example.org"]
    assert oldest.subject == "Réunion <parents>"
    assert oldest.from_header.startswith("Jeanne Dupont")
    assert "<b>pas du HTML</b>" in oldest.text and "À bientôt" in oldest.text
