"""Repositories: one module per aggregate, synchronous Core functions of a connection.

They run inside :meth:`academail.store.Store.run`, one unit of work per call.
"""

from academail.store.repos import audit, credentials, directory, outbox, sessions, tokens

__all__ = ["audit", "credentials", "directory", "outbox", "sessions", "tokens"]
