"""``academail account``: support actions on one account, all audited."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from academail.cli.context import OUT, fail, with_platform
from academail.cli.output import issue_into, pending_file
from academail.core.clock import to_paris
from academail.identity import AccountView, Event
from academail.letters import LetterSelection
from academail.runtime import Platform

__all__ = ["account_app"]

account_app = typer.Typer(help="Actions sur un compte (support).", no_args_is_help=True)

_IDENT = typer.Argument(..., help="Identifiant, adresse ou alias.")


def _when(value: object) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        return to_paris(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return "–"


def _print(view: AccountView) -> None:
    r = view.record
    table = Table(show_header=False, title=f"Compte {r.login}", title_style="bold")
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("Agent", f"{r.civility} {r.first_name} {r.usage_name.upper()}".strip()),
        ("Fonction", r.role + (f" – {r.corps}" if r.corps else "")),
        ("Établissement", f"{r.uai or '–'} {r.establishment_name} ({r.establishment_city})"),
        ("Identifiant", r.login),
        ("Adresse", r.address),
        ("Alias", ", ".join(r.aliases) or "–"),
        ("État", view.state.label),
        ("Verrouillé jusqu'au", _when(r.locked_until)),
        ("Suppression prévue", _when(r.delete_after)),
        ("Courriers édités", f"{r.letter_count} (dernier : {_when(r.letter_issued_at)})"),
        ("Mot de passe provisoire valable jusqu'au", _when(r.temp_password_expires_at)),
        ("Prise de fonction", _when(r.duty_start)),
        ("Fin de fonction", _when(r.duty_end)),
        ("Courriel de secours", "renseigné" if r.has_personal_email else "non renseigné"),
        ("Mobile de secours", "renseigné" if r.has_mobile else "non renseigné"),
        ("NUMEN", "confidentiel : jamais affiché par le support"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    OUT.print(table)
    if view.history:
        OUT.print("[bold]Historique récent[/]")
        for entry in view.history:
            OUT.print(f"  {_when(entry.at)}  {entry.action:<22} par {entry.actor}")


def _act(ctx: typer.Context, identifier: str, event: Event, reason: str = "") -> None:
    view = with_platform(ctx, lambda p: p.accounts.apply(identifier, event, "cli", reason))
    OUT.print(f"{view.record.login} : {event.label} → {view.state.label}")


@account_app.command("show")
def show(ctx: typer.Context, identifier: str = _IDENT) -> None:
    """Affiche un compte, son état et son historique (jamais le NUMEN)."""
    _print(with_platform(ctx, lambda p: p.accounts.show(identifier)))


@account_app.command("lock")
def lock(ctx: typer.Context, identifier: str = _IDENT) -> None:
    """Verrouille le compte pour la durée de verrouillage (30 min par défaut)."""
    _act(ctx, identifier, Event.LOCK)


@account_app.command("unlock")
def unlock(ctx: typer.Context, identifier: str = _IDENT) -> None:
    """Déverrouille le compte."""
    _act(ctx, identifier, Event.UNLOCK)


@account_app.command("suspend")
def suspend(
    ctx: typer.Context,
    identifier: str = _IDENT,
    reason: str = typer.Option("", "--reason", help="Motif (journalisé)."),
) -> None:
    """Suspend le compte (décision du support)."""
    _act(ctx, identifier, Event.SUSPEND, reason)


@account_app.command("reinstate")
def reinstate(ctx: typer.Context, identifier: str = _IDENT) -> None:
    """Lève une suspension."""
    _act(ctx, identifier, Event.REINSTATE)


@account_app.command("disable")
def disable(ctx: typer.Context, identifier: str = _IDENT) -> None:
    """Désactive le compte (agent parti) ; suppression après le délai de grâce."""
    _act(ctx, identifier, Event.DISABLE)


@account_app.command("enable")
def enable(ctx: typer.Context, identifier: str = _IDENT) -> None:
    """Réactive un compte désactivé."""
    _act(ctx, identifier, Event.ENABLE)


@account_app.command("reissue")
def reissue(
    ctx: typer.Context,
    identifier: str = _IDENT,
    out: Path = typer.Option(..., "--out", help="Fichier PDF du courrier (mode 0600)."),
) -> None:
    """Édite un nouveau courrier : nouveau mot de passe provisoire, l'ancien ne vaut plus.

    Seule commande qui réinitialise un compte actif : le mot de passe choisi par
    l'agent cesse de fonctionner (action de support, journalisée).
    """
    with pending_file(out) as pending:

        async def work(platform: Platform) -> int:
            view = await platform.accounts.show(identifier)
            selection = LetterSelection(logins=(view.record.login,))
            issued = await issue_into(pending, platform.letters, selection, "cli")
            return issued.count

        count = with_platform(ctx, work)
    if count == 0:
        fail("aucun courrier édité : le compte n'est pas dans un état qui le permet")
    OUT.print(f"Courrier écrit dans {out}")
