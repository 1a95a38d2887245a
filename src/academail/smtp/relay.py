"""Remote delivery: the outbound queue's :class:`~academail.delivery.queue.Transport`.

Standards: RFC 5321 (§5.1 finding the servers: MX records by preference, the
domain's own address records when it has no MX; §3.3 one reply per RCPT), RFC 7505
(null MX: the domain accepts no mail), RFC 3207 (STARTTLS), RFC 3463 (enhanced
status codes), RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8), RFC 1870 (SIZE).

Security posture: talks to untrusted servers on the Internet. Every reply is
hostile input: it is cut to one printable ASCII line before it is kept (queue
``last_error``, DSN ``Diagnostic-Code``) and never interpreted beyond its code.
Envelope addresses are sent exactly as stored, after a check that they cannot
break the command line. TLS is opportunistic, like Postfix's ``may`` level:
STARTTLS whenever offered, certificate not verified (an unverified channel still
defeats passive listening; a failed handshake is retried in clear, as a server
without TLS would be). For the domains of ``queue.require_tls_domains`` STARTTLS
and a certificate valid for the MX host name are required; without them the
message waits (a temporary failure) rather than leave in clear.

DNS answers come from ``queue.dns_servers`` when set, else from the system
resolver; with ``queue.smarthost`` every message goes to that relay instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib
import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
import structlog
from aiosmtplib import SMTPException, SMTPResponseException

from academail.config import Settings
from academail.core.offload import off_loop
from academail.delivery.queue import Envelope, Outcome, RecipientResult

__all__ = ["SmtpRelay", "host_and_port"]

log = structlog.get_logger(__name__)
_BAD_IN_ADDRESS = frozenset("\r\n\0<>")  # what could break out of the command line


class _NextHost(Exception):  # noqa: N818 - a signal, not an error
    """This server could not take the transaction: try the next one."""

    def __init__(self, status: str, text: str, host: str = "") -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.host = host


class _Undeliverable(Exception):  # noqa: N818 - a signal, not an error
    """The domain cannot receive now (``outcome`` DEFERRED) or ever (FAILED)."""

    def __init__(self, outcome: Outcome, status: str, text: str) -> None:
        super().__init__(text)
        self.outcome = outcome
        self.status = status
        self.text = text


class _TlsFailed(Exception):  # noqa: N818 - a signal, not an error
    """The opportunistic handshake failed: the caller reconnects without TLS."""


@dataclass(frozen=True)
class _Target:
    name: str  # what TLS verifies and the DSN names (Remote-MTA)
    port: int
    addresses: tuple[str, ...] = ()  # empty: resolve ``name``; a smarthost: connect by name


def host_and_port(value: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address."""
    value = value.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, int(port)
    return value, default_port


def clean(text: str, limit: int = 300) -> str:
    """One line of printable ASCII from untrusted text (a remote reply)."""
    flat = " ".join(text.split())
    return "".join(c if " " <= c <= "~" else "?" for c in flat)[:limit]


def _enhanced(code: int, message: str) -> str:
    head = message.split(" ", 1)[0]
    parts = head.split(".")
    digits = all(p.isdigit() and len(p) <= 3 for p in parts)
    if len(parts) == 3 and digits and head[0] == str(code)[0] and head[0] in "245":
        return head
    return f"{str(code)[0]}.0.0" if str(code)[0] in "245" else "4.0.0"


def _from_reply(recipient: str, code: int, message: str, host: str) -> RecipientResult:
    """A remote reply to a recipient: 5xx fails, anything else but 2xx waits."""
    if 200 <= code < 300:
        outcome = Outcome.DELIVERED
    elif 500 <= code < 600:
        outcome = Outcome.FAILED
    else:
        outcome = Outcome.DEFERRED
    text = clean(f"{code} {message}")
    return RecipientResult(recipient, outcome, _enhanced(code, message), f"smtp; {text}", host)


def _ours(
    recipients: Sequence[str], outcome: Outcome, status: str, text: str, host: str = ""
) -> list[RecipientResult]:
    diagnostic = f"X-Academail; {clean(text)}"
    return [RecipientResult(r, outcome, status, diagnostic, host) for r in recipients]


def _resolver(servers: Sequence[str], timeout: float) -> dns.asyncresolver.Resolver:
    """Blocking when it reads /etc/resolv.conf: built off the loop."""
    if servers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(*host_and_port(s, 53)) for s in servers
        ]
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.lifetime = timeout
    resolver.cache = dns.resolver.LRUCache()
    return resolver


def _opportunistic_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class SmtpRelay:
    """Delivers queued mail to the servers of each domain (or to the smarthost).

    ``verified_context`` is the client context for ``require_tls_domains``; it
    defaults to the system's trust store (tests pass one trusting their own CA).
    """

    def __init__(self, settings: Settings, verified_context: ssl.SSLContext | None = None) -> None:
        queue = settings.queue
        self._hostname = settings.smtp.hostname
        self._timeout = float(queue.timeout_seconds)
        self._port = queue.relay_port
        self._servers = list(queue.dns_servers)
        self._smarthost = host_and_port(queue.smarthost, 25) if queue.smarthost else None
        self._require_tls = {d.lower().rstrip(".") for d in queue.require_tls_domains}
        self._opportunistic = _opportunistic_context()
        self._verified = verified_context
        self._dns: dns.asyncresolver.Resolver | None = None

    async def deliver(self, envelope: Envelope) -> list[RecipientResult]:
        recipients = list(envelope.recipients)
        if _BAD_IN_ADDRESS & set(envelope.sender):
            return _ours(recipients, Outcome.FAILED, "5.1.7", "invalid sender address syntax")
        good = [r for r in recipients if not _BAD_IN_ADDRESS & set(r)]
        results = {r.recipient: r for r in await self._deliver(envelope, good)} if good else {}
        for recipient in recipients:
            if recipient not in results:
                (results[recipient],) = _ours(
                    [recipient], Outcome.FAILED, "5.1.3", "invalid address syntax"
                )
        return [results[r] for r in recipients]

    async def _deliver(self, envelope: Envelope, recipients: list[str]) -> list[RecipientResult]:
        envelope = Envelope(envelope.sender, recipients, envelope.domain, envelope.raw)
        try:
            targets = await self._targets(envelope.domain)
        except _Undeliverable as exc:
            return _ours(recipients, exc.outcome, exc.status, exc.text)
        required = envelope.domain.lower().rstrip(".") in self._require_tls
        last = _NextHost("4.4.1", "no server reachable (aucun serveur joignable)")
        for target in targets:
            try:
                addresses = target.addresses or await self._addresses(target.name)
            except _NextHost as exc:
                last = exc
                continue
            for address in addresses:
                try:
                    return await self._deliver_to(target, address, envelope, required)
                except _NextHost as exc:
                    last = exc
        return _ours(recipients, Outcome.DEFERRED, last.status, last.text, last.host)

    # -- finding the servers (RFC 5321 §5.1, RFC 7505) --------------------------------------
    async def _resolver(self) -> dns.asyncresolver.Resolver:
        if self._dns is None:
            self._dns = await off_loop(_resolver, self._servers, self._timeout)
        return self._dns

    async def _targets(self, domain: str) -> list[_Target]:
        if self._smarthost is not None:
            host, port = self._smarthost
            return [_Target(host, port, (host,))]
        resolver = await self._resolver()
        try:
            answer = await resolver.resolve(domain, "MX", search=False)
        except dns.resolver.NXDOMAIN as exc:
            raise _Undeliverable(
                Outcome.FAILED, "5.1.2", f"domain {domain} does not exist (domaine inexistant)"
            ) from exc
        except dns.resolver.NoAnswer:
            return [_Target(domain, self._port)]  # implicit MX: the domain itself
        except dns.exception.DNSException as exc:
            raise _Undeliverable(
                Outcome.DEFERRED, "4.4.3", f"DNS failure for {domain} (erreur DNS)"
            ) from exc
        records = [(int(r.preference), r.exchange.to_text(omit_final_dot=True)) for r in answer]
        hosts = [(pref, name) for pref, name in records if name not in ("", ".")]
        if not hosts:
            raise _Undeliverable(
                Outcome.FAILED, "5.1.10", f"domain {domain} accepts no mail (null MX)"
            )
        random.shuffle(hosts)  # equal preferences share the load (RFC 5321 §5.1)
        hosts.sort(key=lambda h: h[0])
        return [_Target(name, self._port) for _pref, name in hosts]

    async def _addresses(self, name: str) -> tuple[str, ...]:
        resolver = await self._resolver()
        found: list[str] = []
        trouble = False
        for rdtype in ("A", "AAAA"):
            try:
                answer = await resolver.resolve(name, rdtype, search=False)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except dns.exception.DNSException:
                trouble = True
                continue
            found.extend(r.to_text() for r in answer)
        if found:
            return tuple(found)
        if trouble:
            raise _NextHost("4.4.3", f"DNS failure for {name} (erreur DNS)", name)
        raise _NextHost("4.4.4", f"no address for {name} (serveur sans adresse)", name)

    # -- one server -------------------------------------------------------------------------
    async def _deliver_to(
        self, target: _Target, address: str, envelope: Envelope, required: bool
    ) -> list[RecipientResult]:
        try:
            return await self._session(target, address, envelope, required, tls=True)
        except _TlsFailed:
            log.info("STARTTLS failed, retrying in clear", host=target.name)
            return await self._session(target, address, envelope, required, tls=False)

    async def _session(
        self, target: _Target, address: str, envelope: Envelope, required: bool, *, tls: bool
    ) -> list[RecipientResult]:
        client = aiosmtplib.SMTP(
            hostname=address,
            port=target.port,
            local_hostname=self._hostname,
            timeout=self._timeout,
            start_tls=False,
        )
        try:
            await self._open(client, target.name)
            if tls or required:
                await self._secure(client, target.name, required)
            return await _Transaction(client, envelope, target.name).run()
        finally:
            await _close(client)

    async def _open(self, client: aiosmtplib.SMTP, name: str) -> None:
        try:
            await client.connect()
            await _hello(client)
        except SMTPResponseException as exc:
            text = clean(f"{name} said: {exc.code} {exc.message}")
            status = "4" + _enhanced(exc.code, exc.message)[1:]  # the next server may take it
            raise _NextHost(status, text, name) from exc
        except (SMTPException, OSError, ValueError) as exc:
            text = f"cannot talk to {name} (connexion impossible): {type(exc).__name__}"
            raise _NextHost("4.4.1", text, name) from exc

    async def _secure(self, client: aiosmtplib.SMTP, name: str, required: bool) -> None:
        if not client.supports_extension("starttls"):
            if required:
                raise _NextHost("4.7.4", f"TLS required, not offered by {name}", name)
            return
        context = await self._verified_context() if required else self._opportunistic
        try:
            await client.starttls(server_hostname=name, tls_context=context)
        except SMTPResponseException as exc:  # refused: go on in clear, unless required
            if required or not client.is_connected:
                text = clean(f"STARTTLS refused by {name}: {exc.code} {exc.message}")
                raise _NextHost("4.7.4", text, name) from exc
            return
        except (SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
            if required:
                text = f"TLS with {name} failed (certificat non valide ?): {type(exc).__name__}"
                raise _NextHost("4.7.5", text, name) from exc
            raise _TlsFailed from exc
        try:
            await _hello(client)
        except (SMTPException, OSError) as exc:  # e.g. a TLS alert on the first read
            if required:
                raise _NextHost("4.4.2", f"{name} failed after STARTTLS", name) from exc
            raise _TlsFailed from exc

    async def _verified_context(self) -> ssl.SSLContext:
        if self._verified is None:
            self._verified = await off_loop(ssl.create_default_context)
        return self._verified


async def _hello(client: aiosmtplib.SMTP) -> None:
    try:
        await client.ehlo()
    except aiosmtplib.SMTPHeloError:
        await client.helo()


async def _close(client: aiosmtplib.SMTP) -> None:
    if client.is_connected:
        with contextlib.suppress(SMTPException, OSError, asyncio.TimeoutError):
            await client.quit()
    client.close()


class _Transaction:
    """MAIL, one RCPT per recipient, DATA: each recipient gets its own outcome."""

    def __init__(self, client: aiosmtplib.SMTP, envelope: Envelope, host: str) -> None:
        self.client = client
        self.envelope = envelope
        self.host = host
        self.results: dict[str, RecipientResult] = {}

    def _options(self) -> list[bytes] | None:
        envelope, client = self.envelope, self.client
        options: list[bytes] = []
        if client.supports_extension("size"):
            options.append(b"SIZE=%d" % len(envelope.raw))
        if not envelope.raw.isascii() and client.supports_extension("8bitmime"):
            options.append(b"BODY=8BITMIME")
        if not all(a.isascii() for a in [envelope.sender, *envelope.recipients]):
            if not client.supports_extension("smtputf8"):
                return None
            options.append(b"SMTPUTF8")
        return options

    async def run(self) -> list[RecipientResult]:
        recipients = list(self.envelope.recipients)
        options = self._options()
        if options is None:
            text = f"{self.host} does not accept UTF-8 addresses (SMTPUTF8)"
            return _ours(recipients, Outcome.FAILED, "5.6.7", text, self.host)
        try:
            reply = await self._command(
                b"MAIL", b"FROM:" + self._path(self.envelope.sender), *options
            )
            if 400 <= reply.code < 500:  # this server is busy: the next one may take it
                text = clean(f"{self.host} said: {reply.code} {reply.message}")
                raise _NextHost(_enhanced(reply.code, reply.message), text, self.host)
            if reply.code != 250:
                return [_from_reply(r, reply.code, reply.message, self.host) for r in recipients]
            accepted = await self._recipients(recipients)
            if accepted:
                await self._data(accepted)
        except (SMTPException, OSError) as exc:
            text = f"connection with {self.host} lost (connexion perdue): {type(exc).__name__}"
            for r in recipients:
                self.results.setdefault(
                    r, _ours([r], Outcome.DEFERRED, "4.4.2", text, self.host)[0]
                )
        return [self.results[r] for r in recipients]

    @staticmethod
    def _path(address: str) -> bytes:
        return b"<" + address.encode("utf-8") + b">"

    async def _command(self, *args: bytes) -> aiosmtplib.SMTPResponse:
        return await self.client.execute_command(*args)

    async def _recipients(self, recipients: Sequence[str]) -> list[str]:
        accepted: list[str] = []
        for recipient in recipients:
            reply = await self._command(b"RCPT", b"TO:" + self._path(recipient))
            if reply.code in (250, 251):
                accepted.append(recipient)
            else:
                self.results[recipient] = _from_reply(
                    recipient, reply.code, reply.message, self.host
                )
        return accepted

    async def _data(self, accepted: Sequence[str]) -> None:
        try:
            reply = await self.client.data(self.envelope.raw)
        except SMTPResponseException as exc:
            code, message = exc.code, exc.message
        else:
            code, message = reply.code, reply.message
        for recipient in accepted:
            self.results[recipient] = _from_reply(recipient, code, message, self.host)
