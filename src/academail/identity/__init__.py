"""The staff directory and account lifecycle: naming, NUMEN, UAI, HR import, states.

This ``__init__`` is the package's API for the other packages (style.md §11).
"""

from academail.identity import naming, numen, passwords
from academail.identity.accounts import AccountService, AccountView, effective_state
from academail.identity.lifecycle import AccountState, Event, Outcome, transition
from academail.identity.revocation import Revoked, revoke_access_in
from academail.identity.roles import Role, role_from_code
from academail.identity.staff_import import ImportReport, ReportLine, StaffImporter
from academail.identity.uai import departement_of, normalise_uai

__all__ = [
    "AccountService",
    "AccountState",
    "AccountView",
    "Event",
    "ImportReport",
    "Outcome",
    "ReportLine",
    "Revoked",
    "Role",
    "StaffImporter",
    "departement_of",
    "effective_state",
    "naming",
    "normalise_uai",
    "numen",
    "passwords",
    "revoke_access_in",
    "role_from_code",
    "transition",
]
