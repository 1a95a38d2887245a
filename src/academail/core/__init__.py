"""Bottom layer: no dependency on any other academail package."""

from academail.core.clock import PARIS, Clock, FakeClock, SystemClock, to_paris
from academail.core.errors import (
    AcademailError,
    AlreadyExists,
    ErrorCode,
    IllegalTransition,
    InvalidInput,
    LimitReached,
    NoPermission,
    NotFound,
    OverQuota,
    TemporaryFailure,
)

__all__ = [
    "PARIS",
    "AcademailError",
    "AlreadyExists",
    "Clock",
    "ErrorCode",
    "FakeClock",
    "IllegalTransition",
    "InvalidInput",
    "LimitReached",
    "NoPermission",
    "NotFound",
    "OverQuota",
    "SystemClock",
    "TemporaryFailure",
    "to_paris",
]
