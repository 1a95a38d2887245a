"""Per-IP throttling of sign-in failures, in memory, checked before any password work.

Why before: one address guessing 5 passwords on each of 45,000 accounts would lock
the whole académie, and each guess costs an argon2 verification (~28 ms of CPU).
Counting failures per IP in fixed windows and refusing an address over the limit
stops both before the account counter or argon2 is reached.

The counters are per process: with several nodes behind a load balancer an address
gets the limit on each node, which still bounds the attack; the account lockout
(in the database) is shared by all nodes.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from academail.core.clock import Clock

__all__ = ["IpThrottle", "ip_key"]

_MAX_TRACKED = 100_000


def ip_key(ip: str) -> str:
    """The unit one attacker controls: an IPv4 address, or an IPv6 /64 (one host's
    usual allocation: rotating addresses inside it must not reset the counter)."""
    try:
        address = ipaddress.ip_address(ip.strip().split("%", 1)[0])
    except ValueError:
        return ip[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass
class _Window:
    start: dt.datetime
    failures: int


class IpThrottle:
    def __init__(self, clock: Clock, limit: int, window: dt.timedelta) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._windows: dict[str, _Window] = {}

    def _current(self, ip: str) -> _Window | None:
        entry = self._windows.get(ip)
        if entry is not None and self._clock.now() - entry.start >= self._window:
            del self._windows[ip]
            return None
        return entry

    def blocked(self, ip: str) -> bool:
        entry = self._current(ip_key(ip))
        return entry is not None and entry.failures >= self._limit

    def failure(self, ip: str) -> bool:
        """Counts one failure; True when this one reaches the limit (worth an audit)."""
        ip = ip_key(ip)
        entry = self._current(ip)
        if entry is None:
            if len(self._windows) >= _MAX_TRACKED:
                self._prune()
            entry = self._windows[ip] = _Window(self._clock.now(), 0)
        entry.failures += 1
        return entry.failures == self._limit

    def _prune(self) -> None:
        now = self._clock.now()
        for ip in [ip for ip, w in self._windows.items() if now - w.start >= self._window]:
            del self._windows[ip]
        if len(self._windows) >= _MAX_TRACKED:  # under a wide attack keep the worst
            worst = sorted(self._windows.items(), key=lambda item: -item[1].failures)
            self._windows = dict(worst[: _MAX_TRACKED // 2])
