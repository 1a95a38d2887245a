"""The password policy in force, built from the settings (profile + académie values)."""

from __future__ import annotations

from academail.config import Settings
from academail.identity.policy import PROFILES, PasswordPolicy

__all__ = ["policy_for"]


def policy_for(settings: Settings) -> PasswordPolicy:
    """The ``anssi`` profile as is; the ``academie`` one with the configured numbers."""
    auth = settings.auth
    base = PROFILES[auth.password_profile]
    if base.expiry_days == 0:  # a profile without rotation (anssi) is taken whole
        return base
    return PasswordPolicy(
        min_length=base.min_length,
        min_classes=base.min_classes,
        ascii_only=base.ascii_only,
        min_score=base.min_score,
        history=auth.password_history,
        expiry_days=auth.password_expiry_days,
        warn_days=auth.password_warning_days,
    )
