"""SMTP AUTH for the submission listeners: PLAIN (RFC 4616) and LOGIN, over TLS only.

Security posture: talks to untrusted network before authentication. The decision is
never taken here: the credentials go to :meth:`Authenticator.authenticate` with
``Door.SMTP``, which owns the per-IP throttle, the lockout, application passwords
(the only secrets accepted from mail clients once OTP is on), the credentials cache
and the failure time floor. This module only speaks the mechanisms (RFC 4954):

- refuses AUTH on a connection without TLS (538 5.7.11), checked on the transport
  itself so that the implicit-TLS listener works despite aiosmtpd issue #281;
- one reply for every failure (535 5.7.8: wrong secret, unknown account, locked
  account alike — no oracle), 454 4.7.0 when the answer is "try later" (throttled
  address, store unavailable), and the expired-password reply only to whoever gave
  the right password;
- closes the connection after :data:`MAX_FAILURES` failures (421 4.7.0).

aiosmtpd's ``authenticator=`` callback is synchronous and would block the loop
during argon2; these async methods are called as handler ``auth_*`` hooks instead.
Neither secrets nor identifiers are logged.
"""

from __future__ import annotations

import binascii
import weakref
from dataclasses import dataclass

from aiosmtpd.smtp import MISSING, SMTP, AuthResult

from academail.identity.authenticate import AuthContext, Authenticator, Door, Outcome
from academail.identity.mail_policy import MailPolicy
from academail.smtp.replies import (
    AUTH_FAILED,
    AUTH_MALFORMED,
    AUTH_OK,
    AUTH_TEMPORARY,
    ENCRYPTION_REQUIRED,
    PASSWORD_EXPIRED,
    TOO_MANY_AUTH_FAILURES,
    Reply,
)
from academail.smtp.session import client_ip, log, tls_active

__all__ = ["MAX_FAILURES", "SmtpAuth", "Submitter"]

MAX_FAILURES = 3  # per connection; the lockout counts across connections
_MAX_LOGIN = 254
_MAX_SECRET = 1024


@dataclass(frozen=True)
class Submitter:
    """Who authenticated on a connection (``session.auth_data``)."""

    account_id: str
    login: str
    addresses: frozenset[str]  # lowercase: the addresses it may send as


class _Refused(Exception):
    """The exchange is over; ``reply`` (if any) still has to be written."""

    def __init__(self, reply: Reply | None) -> None:
        super().__init__()
        self.reply = reply


class SmtpAuth:
    def __init__(self, authenticator: Authenticator, policy: MailPolicy) -> None:
        self._authenticator = authenticator
        self._policy = policy
        self._failures: weakref.WeakKeyDictionary[SMTP, int] = weakref.WeakKeyDictionary()

    async def plain(self, server: SMTP, args: list[str]) -> AuthResult:
        """RFC 4616: ``[authzid] NUL authcid NUL passwd``, in one response."""
        try:
            self._require_tls(server)
            blob = await self._response(server, args, b"")
            parts = blob.split(b"\x00")
            if len(parts) != 3 or (parts[0] and parts[0] != parts[1]):
                raise _Refused(AUTH_MALFORMED)  # no acting for another identity
            login, secret = _text(parts[1]), _text(parts[2])
        except _Refused as refused:
            return await self._refused(server, refused.reply)
        return await self._check(server, login, secret)

    async def login(self, server: SMTP, args: list[str]) -> AuthResult:
        """The LOGIN mechanism: user name, then password, each base64 in its own line."""
        try:
            self._require_tls(server)
            login = _text(await self._response(server, args, b"Username:"))
            secret = _text(await self._response(server, [], b"Password:"))
        except _Refused as refused:
            return await self._refused(server, refused.reply)
        return await self._check(server, login, secret)

    # -- steps --------------------------------------------------------------------------
    @staticmethod
    def _require_tls(server: SMTP) -> None:
        if not tls_active(server):
            raise _Refused(ENCRYPTION_REQUIRED)

    @staticmethod
    async def _response(server: SMTP, args: list[str], challenge: bytes) -> bytes:
        """The initial response of ``AUTH <mech> <b64>`` (``=`` is empty), or a challenge's."""
        if len(args) >= 2:
            if args[1] == "=":
                return b""
            try:
                return binascii.a2b_base64(args[1].encode("ascii"), strict_mode=True)
            except (binascii.Error, UnicodeEncodeError) as exc:
                raise _Refused(AUTH_MALFORMED) from exc
        answer = await server.challenge_auth(challenge)
        if answer is MISSING or not isinstance(answer, bytes):
            raise _Refused(None)  # "*" or bad base64: aiosmtpd has answered 501
        return answer

    async def _check(self, server: SMTP, login: str, secret: str) -> AuthResult:
        assert server.session is not None  # noqa: S101 - set by aiosmtpd at connection
        ctx = AuthContext(Door.SMTP, client_ip(server.session))
        try:
            result = await self._authenticator.authenticate(
                login[:_MAX_LOGIN], secret[:_MAX_SECRET], ctx
            )
            if result.ok and result.account_id and result.login:
                addresses = await self._policy.sender_addresses(result.login)
                submitter = Submitter(result.account_id, result.login, addresses)
                return AuthResult(success=True, auth_data=submitter, message=str(AUTH_OK))
        except Exception as exc:  # the store is down: the client may try again later
            log.error("smtp auth unavailable", error=type(exc).__name__)
            return await self._refused(server, AUTH_TEMPORARY)
        if result.outcome is Outcome.THROTTLED:
            return await self._refused(server, AUTH_TEMPORARY)
        if result.outcome is Outcome.PASSWORD_EXPIRED:
            return await self._refused(server, PASSWORD_EXPIRED)
        return await self._refused(server, AUTH_FAILED)

    async def _refused(self, server: SMTP, reply: Reply | None) -> AuthResult:
        if reply is not None:
            await server.push(str(reply))
        failures = self._failures.get(server, 0) + 1
        self._failures[server] = failures
        if failures >= MAX_FAILURES and server.transport is not None:
            await server.push(str(TOO_MANY_AUTH_FAILURES))
            server.transport.close()
        return AuthResult(success=False, handled=True)


def _text(blob: bytes) -> str:
    """RFC 4616 and RFC 4954 carry UTF-8; anything else is a malformed exchange."""
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(AUTH_MALFORMED) from exc
