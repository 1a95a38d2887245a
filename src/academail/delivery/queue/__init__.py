"""The durable outbound queue: mail for remote recipients waits here until sent.

:class:`MailQueue` stores and operates the queue; :class:`QueueWorker` sends what
is due through a :class:`Transport` (``smtp.relay.SmtpRelay``, passed by runtime),
retries, and returns what cannot be delivered with a DSN (RFC 3464).
"""

from academail.delivery.queue.captured import CapturedMail
from academail.delivery.queue.dsn import Bouncer, Failure, Returned, compose_dsn
from academail.delivery.queue.enqueue import (
    CAPTURED,
    QUEUED,
    SENDING,
    Deleted,
    MailQueue,
    QueueEntry,
)
from academail.delivery.queue.transport import Envelope, Outcome, RecipientResult, Transport
from academail.delivery.queue.worker import QueueWorker, RunReport

__all__ = [
    "CAPTURED",
    "QUEUED",
    "SENDING",
    "Bouncer",
    "CapturedMail",
    "Deleted",
    "Envelope",
    "Failure",
    "MailQueue",
    "Outcome",
    "QueueEntry",
    "QueueWorker",
    "RecipientResult",
    "Returned",
    "RunReport",
    "Transport",
    "compose_dsn",
]
