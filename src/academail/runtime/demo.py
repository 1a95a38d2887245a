"""The demonstration académie: what ``academail demo`` sets up before serving.

Besides the HR import and the letters, a person trying academail needs accounts to
sign in with at once. Four are chosen among the imported agents and remembered in
``<data>/demo/comptes.json`` (mode 0600; it holds the demo password and one
temporary password, which is the point of a demo):

* a teacher, activated, with the demo password;
* a school director, activated: the portal makes them enrol OTP first;
* an administrator (personnel administratif), activated, listed in
  ``auth.admin_logins``: OTP first too, then the demo outbox console;
* a newcomer whose letter was issued: their temporary password opens the
  activation journey.

Activation goes through the real services (password policy, recovery data, the
confirmation code read back from the outbox), as an agent would. Running the demo
again reuses the same accounts and changes nothing.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from academail.identity import AccountState
from academail.letters import LetterSelection
from academail.runtime.platform import Platform

__all__ = ["DEMO_PASSWORD", "DemoAccounts", "demo_accounts"]

DEMO_PASSWORD = "Demo-Picardie-2026!"  # noqa: S105 - a published demo password, on purpose
_TEACHERS = {"ENS1D", "ENS2D"}
_DIRECTORS = {"DIR_ECOLE", "PERDIR"}


@dataclass(frozen=True)
class DemoAccounts:
    teacher: str
    director: str
    admin: str
    newcomer: str
    newcomer_password: str
    password: str = DEMO_PASSWORD


async def demo_accounts(platform: Platform, folder: Path) -> DemoAccounts:
    """The four demo accounts, chosen and activated once."""
    path = folder / "comptes.json"
    if path.exists():
        return DemoAccounts(**json.loads(path.read_text(encoding="utf-8")))
    records = await platform.accounts.list_accounts(
        [AccountState.PROVISIONED, AccountState.LETTER_ISSUED]
    )

    def first(roles: set[str], taken: set[str]) -> str:
        for record in records:
            if record.role in roles and record.login not in taken:
                return record.login
        raise LookupError(f"aucun agent de rôle {sorted(roles)} dans la démonstration")

    teacher = first(_TEACHERS, set())
    director = first(_DIRECTORS, {teacher})
    admin = first({"ADM"}, {teacher, director})
    newcomer = first(_TEACHERS | {"AESH", "CPE"}, {teacher, director, admin})
    for n, login in enumerate((teacher, director, admin), 1):
        await _activate(platform, login, n)
    issued = await platform.letters.issue(
        LetterSelection(logins=(newcomer,)), "demo", deliver=lambda _pdf: None, reveal=True
    )
    chosen = DemoAccounts(teacher, director, admin, newcomer, issued.revealed[newcomer])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(chosen), handle, ensure_ascii=False, indent=2)
    return chosen


async def _activate(platform: Platform, login: str, n: int) -> None:
    await platform.letters.issue(
        LetterSelection(logins=(login,)), "demo", deliver=lambda _pdf: None
    )
    view = await platform.accounts.show(login)
    account_id = view.record.account_id
    await platform.credentials.set_password(account_id, DEMO_PASSWORD, login, "demo")
    personal = f"{login}.perso@example.org"
    await platform.credentials.set_recovery(account_id, personal, "")
    mails = [m for m in await platform.notifier.latest(20) if m.recipient == personal]
    code = re.search(r"\b(\d{6})\b", mails[0].body) if mails else None
    if code is None or not await platform.credentials.confirm(account_id, code.group(1), None):
        raise RuntimeError(f"activation de démonstration impossible pour {login} ({n})")
