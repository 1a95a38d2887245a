"""What the mail doors allow an account or a client address: the rules behind SMTP refusals.

- **Sender addresses**: an authenticated account may send as its own address and its
  aliases only (issue 4; delegated functional mailboxes will be added here, so every
  door keeps asking this one function).
- **Messages per hour** per account (``smtp.messages_per_hour``): a compromised
  account is contained at this rate. The first message over the limit in a window is
  audited (``smtp.hourly_limit``) and support is mailed (``notify.support_alert_address``)
  — once per window, however many more tries follow.
- **Unknown recipients per minute** per client address (``smtp.unknown_recipients_per_minute``,
  keyed like the sign-in throttle: an IPv4 address or an IPv6 /64), or per account for
  authenticated submission: past it, every RCPT from that client is deferred for the
  window, known or not, so that a stranger cannot list the directory faster than the
  limit.

Counters live in ``rate_counters`` (shared by every node, atomic upserts: two
concurrent submissions never both see the last free slot). The deferral of an
address is also remembered in memory, so that a deferred client costs no query;
another node learns it at its own next unknown recipient (one more answer per node
at most).
"""

from __future__ import annotations

import datetime as dt

from academail.config import Settings
from academail.core.clock import Clock
from academail.identity.naming import normalise_identifier
from academail.identity.rate_limit import Limit
from academail.identity.throttle import ip_key
from academail.notify import Notifier
from academail.store import AuditEntry, Connection, Store
from academail.store import audit as audit_repo
from academail.store import directory as directory_repo
from academail.store import rate_counters as counter_repo

__all__ = ["HOURLY_LIMIT_EVENT", "MailPolicy"]

HOURLY_LIMIT_EVENT = "smtp.hourly_limit"
_MAX_DEFERRED = 10_000


class MailPolicy:
    def __init__(self, store: Store, clock: Clock, settings: Settings, notifier: Notifier) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier
        self._support = settings.notify.support_alert_address
        smtp = settings.smtp
        self.hourly = Limit("smtp-hour", smtp.messages_per_hour, dt.timedelta(hours=1))
        self.unknown = Limit(
            "smtp-unknown-rcpt", smtp.unknown_recipients_per_minute, dt.timedelta(minutes=1)
        )
        self._deferred: dict[str, dt.datetime] = {}

    # -- sender addresses --------------------------------------------------------------
    async def sender_addresses(self, login: str) -> frozenset[str]:
        """The addresses ``login`` may send as, lowercase (its address and aliases)."""
        key = normalise_identifier(login)
        record = await self._store.run(lambda c: directory_repo.find_account(c, key))
        if record is None:
            return frozenset()
        return frozenset(a.lower() for a in (record.address, *record.aliases) if a)

    # -- messages per hour -------------------------------------------------------------
    async def count_message(self, account_id: str, login: str, client_ip: str) -> bool:
        """Counts one message (a MAIL transaction); False when it is over the hourly limit.

        Counted when the transaction starts, so that a refused client sends no data;
        a transaction the client abandons still counts. The first refusal of a window
        is audited in the same unit of work as the count and mailed to support; later
        refusals of the window are not.
        """
        now = self._clock.now()
        limit = self.hourly.limit

        def work(conn: Connection) -> int:
            count = counter_repo.hit(conn, self.hourly.key(account_id), now, self.hourly.window)
            if count == limit + 1:
                details = {"limit": limit, "ip": client_ip}
                audit_repo.append(
                    conn, [AuditEntry(now, login, HOURLY_LIMIT_EVENT, login, details)]
                )
            return count

        count = await self._store.run(work)
        if count == limit + 1:
            await self._alert_support(login, client_ip, limit)
        return count <= limit

    async def _alert_support(self, login: str, client_ip: str, limit: int) -> None:
        body = (
            "Bonjour,\n\n"
            f"Le compte {login} a atteint la limite de {limit} messages envoyés par heure "
            f"(soumission SMTP, adresse IP {client_ip}).\n"
            "Ses envois suivants sont refusés temporairement jusqu'à la fin de l'heure.\n\n"
            "Un compte qui envoie autant est souvent un compte compromis (spam, hameçonnage) : "
            "vérifiez avec l'agent et, si besoin, suspendez le compte depuis la console.\n"
        )
        await self._notifier.email(
            [self._support], f"Limite d'envoi atteinte par le compte {login}", body
        )

    # -- unknown recipients ------------------------------------------------------------
    def recipients_deferred(self, client: str) -> bool:
        """True while ``client`` is over its unknown-recipient limit (memory only).

        ``client`` is an IP address (counted per address, or per /64 for IPv6) or,
        for an authenticated session, ``account:<id>`` — so that colleagues behind
        one school's NAT address do not defer each other's typos.
        """
        key = ip_key(client)
        until = self._deferred.get(key)
        if until is None:
            return False
        if until <= self._clock.now():
            del self._deferred[key]
            return False
        return True

    async def unknown_recipient(self, client: str) -> bool:
        """Counts one unknown recipient tried by ``client``; False once over the limit."""
        key, now = ip_key(client), self._clock.now()
        window = self.unknown.window
        count = await self._store.run(
            lambda c: counter_repo.hit(c, self.unknown.key(key), now, window)
        )
        if count <= self.unknown.limit:
            return True
        if len(self._deferred) >= _MAX_DEFERRED:
            self._deferred = {k: t for k, t in self._deferred.items() if t > now}
            if len(self._deferred) >= _MAX_DEFERRED:  # a wide scan: keep the newest half
                newest = sorted(self._deferred.items(), key=lambda item: item[1])
                self._deferred = dict(newest[_MAX_DEFERRED // 2 :])
        self._deferred[key] = now + window
        return False
