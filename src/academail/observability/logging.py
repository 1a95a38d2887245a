"""Structured logs (structlog), with secrets kept out by construction.

Call sites log events with key-value pairs. A processor drops the value of any key
that names a secret or personal datum (password, NUMEN, token, date of birth,
message body…) before rendering, so a careless ``log.info(..., password=p)`` writes
``password='[supprimé]'`` instead of the secret (engineering.md).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["SENSITIVE_KEYS", "configure_logging", "get_logger", "redact"]

SENSITIVE_KEYS = frozenset(
    {
        "password",
        "passwd",
        "mot_de_passe",
        "temporary_password",
        "numen",
        "token",
        "secret",
        "key",
        "birth_date",
        "date_naissance",
        "body",
        "otp",
        "code",
        "cookie",
        "authorization",
    }
)
_REDACTED = "[supprimé]"


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for name in list(event):
        lowered = name.lower()
        if lowered in SENSITIVE_KEYS or any(
            part in lowered for part in ("password", "numen", "token", "secret")
        ):
            event[name] = _REDACTED
    return event


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # Resolved at each logger creation, not once: a test runner (or a daemon)
        # may swap sys.stderr after logging was configured.
        logger_factory=lambda *_args: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
