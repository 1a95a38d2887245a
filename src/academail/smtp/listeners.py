"""The SMTP listeners on the running loop: inbound (25), submission (587), submissions (465).

Each listener is ``loop.create_server`` with aiosmtpd's protocol, never aiosmtpd's
threaded ``Controller``: the store, the clock and the change feed live on this loop,
and a second loop in a thread would race them. Per listener:

==============  ===============  ======================  ==============================
listener        TLS              AUTH                     MAIL before AUTH
==============  ===============  ======================  ==============================
inbound 25      STARTTLS offered none                     (not applicable)
submission 587  STARTTLS needed  PLAIN, LOGIN after TLS   530 5.7.0
submissions 465 implicit TLS     PLAIN, LOGIN             530 5.7.0
==============  ===============  ======================  ==============================

On 465 aiosmtpd never learns that the connection is encrypted (its issue #281), so
``auth_require_tls`` is off there and :mod:`academail.smtp.auth` checks the transport
itself. Idle sessions are closed after ``smtp.idle_timeout_seconds``.

aiosmtpd logs every command (addresses, at INFO) and, at DEBUG, every DATA line:
message bodies must never reach a log, so its logger keeps warnings and errors only.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import AnyStr

from aiosmtpd.smtp import SMTP

from academail.smtp.inbound import InboundHandler
from academail.smtp.replies import completed
from academail.smtp.session import SmtpServices
from academail.smtp.submission import SubmissionHandler

__all__ = [
    "ListenerBindError",
    "SmtpProtocol",
    "start_inbound",
    "start_smtp",
    "start_submission",
]

_GREETING_IDENT = "ESMTP"  # no software name or version in the banner


class ListenerBindError(RuntimeError):
    """A listener could not bind; the text names the setting to change (French)."""

    def __init__(self, setting: str, port: int, exc: OSError) -> None:
        super().__init__(
            f"SMTP : impossible d'écouter sur le port {port} ({exc.strerror or exc}) "
            f"— réglage {setting}"
        )
        self.setting = setting


class SmtpProtocol(SMTP):
    """aiosmtpd's protocol, with its own reply lines completed (enhanced codes) and
    replies written together.

    aiosmtpd writes each reply line with its own ``send``: eight for an EHLO
    answer, one per pipelined command. A system call is far from free (on this
    kind of virtual machine a loopback ``send`` costs about 0.2 ms of CPU), so the
    lines produced during one turn of the event loop leave in one write at the end
    of that turn; the order is kept. Replies after which the connection changes —
    220 (greeting, STARTTLS), 221 and 421 (closing) — are written at once.
    """

    _pending: list[bytes] | None = None

    async def push(self, status: AnyStr) -> None:
        text = completed(status) if isinstance(status, str) else status
        line = (
            text.encode("utf-8" if self.enable_SMTPUTF8 else "ascii")
            if isinstance(text, str)
            else text
        )
        if self._pending is None:
            self._pending = []
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(line + b"\r\n")
        if line[:3] in _WRITE_AT_ONCE:
            self._flush()
        await self._writer.drain()

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self._writer.transport.is_closing():
            self._writer.write(b"".join(pending))


_WRITE_AT_ONCE = (b"220", b"221", b"421")


class _QuietAiosmtpd(logging.Filter):
    """Keeps aiosmtpd's warnings and errors, minus its login_data deprecation noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        return "login_data is deprecated" not in str(record.msg)


def _quiet_aiosmtpd() -> None:
    logger = logging.getLogger("mail.log")
    if not any(isinstance(f, _QuietAiosmtpd) for f in logger.filters):
        logger.addFilter(_QuietAiosmtpd())


def _factory(
    services: SmtpServices,
    handler: InboundHandler | SubmissionHandler,
    *,
    tls_context: ssl.SSLContext | None,
    require_starttls: bool = False,
    auth_require_tls: bool = True,
    auth_exclude_mechanism: list[str] | None = None,
) -> Callable[[], SMTP]:
    smtp = services.settings.smtp

    def build() -> SMTP:
        return SmtpProtocol(
            handler,
            hostname=smtp.hostname,
            ident=_GREETING_IDENT,
            data_size_limit=smtp.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            timeout=smtp.idle_timeout_seconds,
            tls_context=tls_context,
            require_starttls=require_starttls,
            auth_require_tls=auth_require_tls,
            auth_exclude_mechanism=auth_exclude_mechanism,
        )

    return build


async def start_inbound(
    services: SmtpServices, host: str, port: int, tls: ssl.SSLContext | None
) -> asyncio.Server:
    """Port 25: STARTTLS offered when ``tls`` is given, never required; no AUTH."""
    _quiet_aiosmtpd()
    factory = _factory(
        services,
        InboundHandler(services),
        tls_context=tls,
        require_starttls=False,
        auth_exclude_mechanism=["PLAIN", "LOGIN"],
    )
    return await asyncio.get_running_loop().create_server(factory, host, port)


async def start_submission(
    services: SmtpServices, host: str, port: int, tls: ssl.SSLContext, *, implicit_tls: bool
) -> asyncio.Server:
    """587 (``implicit_tls`` False: STARTTLS required) or 465 (TLS from the first byte)."""
    _quiet_aiosmtpd()
    handler = SubmissionHandler(services)
    loop = asyncio.get_running_loop()
    if implicit_tls:
        factory = _factory(services, handler, tls_context=None, auth_require_tls=False)
        return await loop.create_server(factory, host, port, ssl=tls)
    factory = _factory(
        services, handler, tls_context=tls, require_starttls=True, auth_require_tls=True
    )
    return await loop.create_server(factory, host, port)


async def start_smtp(services: SmtpServices, tls: ssl.SSLContext | None) -> list[asyncio.Server]:
    """Every listener whose port setting is not 0; the caller closes them.

    Without a TLS context the submission listeners do not start (AUTH is never sent
    in clear text). On a bind failure the listeners already started are closed and
    :class:`ListenerBindError` names the setting.
    """
    smtp, host = services.settings.smtp, services.settings.smtp.host
    wanted: list[tuple[str, int, Callable[[], Awaitable[asyncio.Server]]]] = []
    if smtp.inbound_port:
        start = functools.partial(start_inbound, services, host, smtp.inbound_port, tls)
        wanted.append(("smtp.inbound_port", smtp.inbound_port, start))
    if tls is not None:
        for setting, port, implicit in (
            ("smtp.submission_port", smtp.submission_port, False),
            ("smtp.submissions_port", smtp.submissions_port, True),
        ):
            if port:
                start = functools.partial(
                    start_submission, services, host, port, tls, implicit_tls=implicit
                )
                wanted.append((setting, port, start))
    servers: list[asyncio.Server] = []
    for setting, port, starter in wanted:
        try:
            server = await starter()
        except OSError as exc:
            for started in servers:
                started.close()
            raise ListenerBindError(setting, port, exc) from exc
        servers.append(server)
    return servers
