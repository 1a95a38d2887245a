"""Repositories: one module per aggregate, synchronous Core functions of a connection.

They run inside :meth:`academail.store.Store.run`, one unit of work per call.
"""

from academail.store.repos import (
    audit,
    captcha,
    credentials,
    directory,
    lookup,
    mail,
    outbox,
    queue,
    rate_counters,
    second_factor,
    sessions,
    sso,
    tokens,
)

__all__ = [
    "audit",
    "captcha",
    "credentials",
    "directory",
    "lookup",
    "mail",
    "outbox",
    "queue",
    "rate_counters",
    "second_factor",
    "sessions",
    "sso",
    "tokens",
]
