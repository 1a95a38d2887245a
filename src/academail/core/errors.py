"""The one error vocabulary of academail.

Every domain failure is one of these codes; each adapter (CLI, web, IMAP, SMTP…)
maps them once to its own replies. Messages carried here are safe to show to the
person who caused them: they never contain a password, a NUMEN, a token or a
message body (engineering.md, "Secrets and personal data").
"""

from __future__ import annotations

import enum

__all__ = [
    "AcademailError",
    "AlreadyExists",
    "ErrorCode",
    "IllegalTransition",
    "InvalidInput",
    "LimitReached",
    "NoPermission",
    "NotFound",
    "OverQuota",
    "TemporaryFailure",
]


class ErrorCode(enum.Enum):
    """Domain error codes, mapped once per protocol (style.md §4)."""

    NOT_FOUND = "not_found"
    EXISTS = "exists"
    NO_PERMISSION = "no_permission"
    OVER_QUOTA = "over_quota"
    LIMIT = "limit"
    TEMPORARY = "temporary"
    INVALID = "invalid"


class AcademailError(Exception):
    """Base of every domain error; ``code`` decides the reply at each edge."""

    code: ErrorCode = ErrorCode.INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AcademailError):
    code = ErrorCode.NOT_FOUND


class AlreadyExists(AcademailError):
    code = ErrorCode.EXISTS


class NoPermission(AcademailError):
    code = ErrorCode.NO_PERMISSION


class OverQuota(AcademailError):
    code = ErrorCode.OVER_QUOTA


class LimitReached(AcademailError):
    code = ErrorCode.LIMIT


class TemporaryFailure(AcademailError):
    code = ErrorCode.TEMPORARY


class InvalidInput(AcademailError):
    code = ErrorCode.INVALID


class IllegalTransition(InvalidInput):
    """An account state change that the lifecycle does not allow."""
