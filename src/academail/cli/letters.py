"""``academail letters``: credential letters for printing and posting."""

from __future__ import annotations

from pathlib import Path

import typer

from academail.cli.account import write_private
from academail.cli.context import OUT, fail, with_platform
from academail.identity import normalise_uai
from academail.letters import IssuedLetters, LetterSelection
from academail.runtime import Platform

__all__ = ["letters"]


def letters(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="Fichier PDF à écrire (mode 0600)."),
    departement: str | None = typer.Option(None, "--departement", help="02, 60 ou 80."),
    establishment: str | None = typer.Option(None, "--establishment", help="Code UAI."),
    new: bool = typer.Option(False, "--new", help="Seulement les comptes jamais édités."),
) -> None:
    """Édite les courriers d'identifiants (une page par agent, triés pour l'envoi).

    Sans --new, les comptes déjà édités de la sélection reçoivent un nouveau mot de
    passe provisoire, et l'ancien courrier ne vaut plus.
    """
    uai = None
    if establishment:
        try:
            uai = normalise_uai(establishment)
        except Exception as exc:  # noqa: BLE001 - mapped to a message
            fail(str(exc))
    selection = LetterSelection(departement=departement, uai=uai, only_new=new)

    async def work(platform: Platform) -> IssuedLetters:
        known = {d.code for d in platform.settings.academie.departement_list()}
        if departement and departement not in known:
            fail(f"département inconnu « {departement} » (attendu : {', '.join(sorted(known))})")
        return await platform.letters.issue(selection, "cli")

    issued = with_platform(ctx, work)
    if issued.count == 0:
        OUT.print(f"Aucun courrier à éditer ({selection.describe()}).")
        return
    write_private(out, issued.pdf)
    OUT.print(f"{issued.count} courrier(s) écrits dans {out} ({selection.describe()}).")
