"""Composition root."""

from academail.runtime.platform import InitReport, Platform, initialise, open_platform
from academail.runtime.serve import serve, tls_files
from academail.store import DatabaseError

__all__ = [
    "DatabaseError",
    "InitReport",
    "Platform",
    "initialise",
    "open_platform",
    "serve",
    "tls_files",
]
