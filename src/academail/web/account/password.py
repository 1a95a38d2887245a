"""``/compte/mot-de-passe``: changing the password from a signed-in session.

The current password is asked again (a session left open must not be enough) and
checked by THE sign-in path, so guesses count towards the lockout. The new one goes
through the policy of :class:`~academail.identity.credentials.CredentialService`,
whose generation bump ends every session: this one continues in a fresh session
(new id), the others are revoked, and the agent is told by e-mail.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from academail.core.errors import AcademailError
from academail.identity.credentials import PasswordRejected
from academail.identity.policy import rules_for_display
from academail.web.account.common import Agent, gate, page
from academail.web.i18n import N_
from academail.web.requests import client_ip, context, platform_of, redirect, user_agent

__all__ = ["router"]

router = APIRouter()

_PATH = "/compte/mot-de-passe"
_MISMATCH = N_("Les deux saisies du nouveau mot de passe ne sont pas identiques.")


def _form(request: Request, errors: list[str], status_code: int = 200) -> Response:
    policy = platform_of(request).credentials.policy
    rules = [message for _code, message in rules_for_display(policy)]
    return page(
        request, "account/password.html", "mot-de-passe", status_code, errors=errors, rules=rules
    )


@router.get(_PATH)
async def password_page(request: Request) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    return _form(request, [])


@router.post(_PATH)
async def change_password(
    request: Request,
    mot_de_passe_actuel: str = Form(""),
    mot_de_passe: str = Form(""),
    confirmation: str = Form(""),
) -> Response:
    agent = gate(request, _PATH)
    if isinstance(agent, Response):
        return agent
    if mot_de_passe != confirmation:
        return _form(request, [_MISMATCH], 422)
    errors = await _change(request, agent, mot_de_passe_actuel, mot_de_passe[:256])
    if errors:
        return _form(request, errors, 422)
    platform = platform_of(request)
    fresh = await platform.sessions.advance(
        agent.session, "full", client_ip(request), user_agent(request), agent.session.data
    )
    await platform.second_factor.password_changed(agent.account_id, fresh.id_hash, context(request))
    return redirect("/compte?ok=mot-de-passe", fresh)


async def _change(request: Request, agent: Agent, current: str, new: str) -> list[str]:
    platform = platform_of(request)
    try:
        await platform.second_factor.reauthenticate(agent.account_id, current, context(request))
        record = await platform.credentials.record(agent.account_id)
        await platform.credentials.set_password(agent.account_id, new, record.login, "change")
    except PasswordRejected as exc:
        return exc.reasons
    except AcademailError as exc:
        return [exc.message]
    return []
