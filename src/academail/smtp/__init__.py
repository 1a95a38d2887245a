"""SMTP adapters (aiosmtpd): inbound on 25, submission on 587 (STARTTLS) and 465 (TLS).

``runtime`` starts every listener with :func:`start_smtp` (``SmtpServices.of(platform)``
and the server TLS context); tests start one listener at a time on port 0.
"""

from academail.smtp.inbound import InboundHandler
from academail.smtp.listeners import (
    ListenerBindError,
    SmtpProtocol,
    start_inbound,
    start_smtp,
    start_submission,
)
from academail.smtp.session import SmtpServices
from academail.smtp.submission import SubmissionHandler

__all__ = [
    "InboundHandler",
    "ListenerBindError",
    "SmtpProtocol",
    "SmtpServices",
    "SubmissionHandler",
    "start_inbound",
    "start_smtp",
    "start_submission",
]
