"""Logs (and later metrics and health)."""

from academail.observability.logging import SENSITIVE_KEYS, configure_logging, get_logger, redact

__all__ = ["SENSITIVE_KEYS", "configure_logging", "get_logger", "redact"]
