"""The change feed's NOTIFY payloads: compact, under PostgreSQL's limit, validated.

Round trips are checked by hypothesis over any UID set; long lists come back exact
when their ranges fit and as a ``resync`` of the same mailbox and MODSEQ when they
do not; hostile payloads raise ValueError, and none can make the receiver expand
more than ``MAX_WIRE_UIDS`` UIDs.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academail.mail.feed import (
    MAX_WIRE_UIDS,
    RESYNC,
    ChangeFeed,
    MailboxEvent,
    decode_event,
    encode_event,
)
from academail.store.notify import PAYLOAD_LIMIT

ORIGIN = "0123456789abcdef"
uid_sets = st.sets(st.integers(1, 2**32 - 1), max_size=3000).map(lambda s: tuple(sorted(s)))


@given(
    uids=uid_sets,
    mailbox_id=st.integers(1, 2**63 - 1),
    modseq=st.integers(0, 2**63 - 1),
    kind=st.sampled_from(["append", "flags", "expunge"]),
)
def test_every_event_round_trips_exactly_or_as_a_resync(uids, mailbox_id, modseq, kind):
    event = MailboxEvent(mailbox_id, kind, uids, modseq)
    payload = encode_event(event, ORIGIN)
    assert len(payload.encode()) < PAYLOAD_LIMIT
    origin, back = decode_event(payload)
    assert origin == ORIGIN
    assert back in (event, MailboxEvent(mailbox_id, RESYNC, (), modseq))


def test_contiguous_uids_take_a_few_bytes_whatever_their_number():
    event = MailboxEvent(12, "append", tuple(range(1, MAX_WIRE_UIDS + 1)), 40)
    payload = encode_event(event, ORIGIN)
    assert json.loads(payload) == {"o": ORIGIN, "m": 12, "k": "append", "s": 40, "u": "1:10000"}
    assert decode_event(payload) == (ORIGIN, event)


def test_runs_and_single_uids_read_like_an_imap_sequence_set():
    payload = encode_event(MailboxEvent(3, "expunge", (9, 1, 2, 3, 7, 5, 6), 8), ORIGIN)
    assert json.loads(payload)["u"] == "1:3,5:7,9"


@pytest.mark.parametrize(
    "uids",
    [
        tuple(range(1, 2 * 6000, 2)),  # scattered: the ranges exceed 8000 bytes
        tuple(range(1, MAX_WIRE_UIDS + 2)),  # contiguous but more than the receiver expands
    ],
    ids=["too-long", "too-many"],
)
def test_a_list_that_cannot_travel_becomes_a_resync_with_its_modseq(uids):
    payload = encode_event(MailboxEvent(5, "flags", uids, 77), ORIGIN)
    assert len(payload) < 100
    assert decode_event(payload) == (ORIGIN, MailboxEvent(5, RESYNC, (), 77))


def test_a_huge_range_from_the_wire_is_read_as_a_resync_not_expanded():
    payload = json.dumps({"o": "x", "m": 5, "k": "expunge", "s": 9, "u": "1:4294967295"})
    assert decode_event(payload) == ("x", MailboxEvent(5, RESYNC, (), 9))


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "[]",
        '{"o":"x","m":1,"k":"append","s":1,"u":"1"',
        '{"m":1,"k":"append","s":1}',
        '{"o":"","m":1,"k":"append","s":1}',
        '{"o":"' + "x" * 65 + '","m":1,"k":"append","s":1}',
        '{"o":"x","m":0,"k":"append","s":1}',
        '{"o":"x","m":true,"k":"append","s":1}',
        '{"o":"x","m":"1","k":"append","s":1}',
        '{"o":"x","m":1,"k":"append","s":-1}',
        '{"o":"x","m":1,"k":"append","s":1.5}',
        '{"o":"x","m":1,"k":"DROP TABLE","s":1}',
        '{"o":"x","m":1,"k":"append","s":1,"u":3}',
        '{"o":"x","m":1,"k":"append","s":1,"u":"0"}',
        '{"o":"x","m":1,"k":"append","s":1,"u":"5:3"}',
        '{"o":"x","m":1,"k":"append","s":1,"u":"1:4294967296"}',
        '{"o":"x","m":1,"k":"append","s":1,"u":"1,,2"}',
        '{"o":"x","m":1,"k":"append","s":1,"u":"1:2:3"}',
        '{"o":"x","m":1,"k":"append","s":1,"u":" 1"}',
        '{"o":"x","m":1,"k":"append","s":1,"u":"１"}',
    ],
)
def test_malformed_payloads_are_refused(payload):
    with pytest.raises(ValueError):
        decode_event(payload)


async def test_a_feed_drops_its_own_echo_and_garbage_but_passes_others_events():
    feed = ChangeFeed()
    queue = feed.subscribe(4)
    mine = MailboxEvent(4, "append", (1,), 2)
    theirs = MailboxEvent(4, "flags", (1,), 3)
    feed.receive(encode_event(mine, feed.origin))
    feed.receive("{garbage")
    feed.receive(encode_event(theirs, "another-process"))
    assert queue.get_nowait() == theirs
    assert queue.empty()


async def test_resync_all_reaches_every_subscribed_mailbox_once():
    feed = ChangeFeed()
    queues = {mailbox_id: feed.subscribe(mailbox_id) for mailbox_id in (1, 2)}
    gone = feed.subscribe(3)
    feed.unsubscribe(3, gone)
    feed.resync_all()
    for mailbox_id, queue in queues.items():
        assert queue.get_nowait() == MailboxEvent(mailbox_id, RESYNC, (), 0)
        assert queue.empty()
    assert gone.empty()


def test_two_feeds_never_share_an_origin():
    assert ChangeFeed().origin != ChangeFeed().origin
