"""``academail queue``: the outbound queue as an operator sees it (list, retry, delete).

Never shows message content: envelope addresses, attempts and the last remote
reply only. A running ``academail serve`` picks up rows made due by ``retry``
within its polling interval; ``delete`` gives back the blob references at once
and sends a DSN only when asked (``--bounce``).
"""

from __future__ import annotations

import datetime as dt
import json

import typer
from rich.table import Table

from academail.cli.context import OUT, fail, with_platform
from academail.core.clock import to_paris
from academail.delivery.queue import CAPTURED, QUEUED, SENDING, QueueEntry

__all__ = ["queue_app"]

queue_app = typer.Typer(help="File d'attente des courriels sortants.", no_args_is_help=True)

STATES = {QUEUED: "en attente", SENDING: "en cours d'envoi", CAPTURED: "capturé"}


def _when(value: dt.datetime) -> str:
    return to_paris(value).strftime("%d/%m/%Y %H:%M")


def _row(entry: QueueEntry) -> list[str]:
    upcoming = _when(entry.next_attempt_at) if entry.state != CAPTURED else "–"
    return [
        str(entry.id),
        STATES.get(entry.state, entry.state),
        entry.sender or "<>",
        entry.recipient,
        str(entry.attempts),
        upcoming,
        entry.last_error or "–",
    ]


def _as_json(entry: QueueEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "state": entry.state,
        "sender": entry.sender,
        "recipient": entry.recipient,
        "attempts": entry.attempts,
        "created_at": entry.created_at.isoformat(),
        "next_attempt_at": entry.next_attempt_at.isoformat(),
        "expires_at": entry.expires_at.isoformat(),
        "last_error": entry.last_error,
    }


@queue_app.command("list")
def list_(
    ctx: typer.Context,
    state: str | None = typer.Option(
        None, "--etat", help="Seulement cet état : queued, sending ou captured."
    ),
    limit: int = typer.Option(1000, "--max", help="Nombre de lignes au plus."),
    as_json: bool = typer.Option(False, "--json", help="Une liste JSON."),
) -> None:
    """Liste la file : n°, état, expéditeur, destinataire, essais, prochain essai, erreur."""
    if state is not None and state not in STATES:
        fail(f"état inconnu : {state} (queued, sending ou captured)")
    states = [state] if state else []
    entries = with_platform(ctx, lambda p: p.queue.entries(states, limit))
    if as_json:
        OUT.print_json(json.dumps([_as_json(e) for e in entries]))
        return
    if not entries:
        OUT.print("La file d'attente est vide.")
        return
    table = Table(title=f"File d'attente : {len(entries)} destinataire(s)", title_style="bold")
    for heading in ("N°", "État", "Expéditeur", "Destinataire", "Essais", "Prochain essai"):
        table.add_column(heading, no_wrap=heading != "Destinataire")
    table.add_column("Dernière erreur", overflow="fold")
    for entry in entries:
        table.add_row(*_row(entry))
    OUT.print(table)


@queue_app.command("retry")
def retry(
    ctx: typer.Context,
    ids: list[int] | None = typer.Argument(None, help="Numéros de ligne (voir « list »)."),
    every: bool = typer.Option(False, "--all", help="Toutes les lignes en attente."),
) -> None:
    """Programme un nouvel essai immédiat (les envois en cours ne sont pas touchés)."""
    if bool(ids) == every:
        fail("indiquez des numéros de ligne, ou --all (pas les deux)")
    changed = with_platform(ctx, lambda p: p.queue.retry(None if every else ids))
    OUT.print(f"{len(changed)} ligne(s) à réessayer maintenant.")
    skipped = sorted(set(ids or []) - set(changed))
    if skipped:
        OUT.print(
            "Ignorées (inconnues, en cours d'envoi ou capturées) : " + ", ".join(map(str, skipped))
        )


@queue_app.command("delete")
def delete(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., help="Numéros de ligne (voir « list »)."),
    bounce: bool = typer.Option(
        False, "--bounce", help="Prévenir l'expéditeur par un avis de non-distribution."
    ),
) -> None:
    """Supprime des lignes de la file ; l'expéditeur n'est prévenu qu'avec --bounce."""
    deleted = with_platform(
        ctx, lambda p: p.queue.delete(ids, bounce_via=p.router if bounce else None)
    )
    missing = sorted(set(ids) - set(deleted.ids))
    if not deleted.ids:
        fail("aucune ligne ne correspond : " + ", ".join(map(str, missing)))
    OUT.print(f"{len(deleted.ids)} ligne(s) supprimée(s).")
    if bounce:
        OUT.print(f"{deleted.dsns} avis de non-distribution envoyé(s).")
    if missing:
        OUT.print("Introuvables : " + ", ".join(map(str, missing)))
