"""Mail held by capture mode, made readable for the administrators' console.

In a demonstration (or a test platform) ``queue.capture`` keeps external mail in
the queue instead of sending it, so the demo works with no network and no message
leaves by mistake. The console shows these as plain text: the subject, the header
addresses and the text parts, decoded once here; the page prints them escaped and
never renders a message's HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from academail.blobs import BlobStore
from academail.core.errors import NotFound
from academail.core.offload import off_loop
from academail.mail import parse_message
from academail.store.repos.queue import QueueRow

__all__ = ["MAX_SHOWN_TEXT", "CapturedMail", "read_captured"]

log = structlog.get_logger(__name__)
MAX_SHOWN_TEXT = 20_000  # characters of text shown per message


@dataclass(frozen=True)
class CapturedMail:
    id: int  # the first queue row of the message
    created_at: dt.datetime
    sender: str  # envelope sender, "" for <>
    recipients: list[str]  # envelope recipients
    from_header: str
    to_header: str
    subject: str
    text: str  # decoded text parts, bounded; "" when unreadable
    truncated: bool


def _group(rows: Sequence[QueueRow]) -> list[list[QueueRow]]:
    """Rows of one message (same bytes, sender and arrival) together, messages in input
    order, recipients in the order they were given."""
    groups: dict[tuple[str, str, dt.datetime], list[QueueRow]] = {}
    for row in rows:
        groups.setdefault((row.blob_key, row.sender, row.created_at), []).append(row)
    return [sorted(group, key=lambda r: r.id) for group in groups.values()]


async def _read(group: list[QueueRow], blobs: BlobStore) -> CapturedMail:
    first = group[0]
    recipients = [r.recipient for r in group]
    try:
        parsed = await off_loop(parse_message, await blobs.get(first.blob_key))
    except NotFound:
        log.error("captured message unreadable", row=first.id)
        return CapturedMail(
            first.id, first.created_at, first.sender, recipients, "", "", "", "", False
        )
    return CapturedMail(
        id=first.id,
        created_at=first.created_at,
        sender=first.sender,
        recipients=recipients,
        from_header=parsed.from_address,
        to_header=parsed.to_addresses,
        subject=parsed.subject,
        text=parsed.text[:MAX_SHOWN_TEXT],
        truncated=len(parsed.text) > MAX_SHOWN_TEXT,
    )


async def read_captured(rows: Sequence[QueueRow], blobs: BlobStore) -> list[CapturedMail]:
    return [await _read(group, blobs) for group in _group(rows)]
