"""``academail letters``: credential letters for printing and posting."""

from __future__ import annotations

from pathlib import Path

import typer

from academail.cli.context import OUT, fail, with_platform
from academail.cli.output import issue_into, pending_file
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

    Sans --new, les comptes de la sélection dont le courrier est déjà édité mais pas
    encore activé reçoivent un nouveau mot de passe provisoire (l'ancien courrier ne
    vaut plus). Un compte actif n'est jamais réinitialisé ici : pour cela,
    « academail account reissue IDENTIFIANT ».
    """
    uai = None
    if establishment:
        try:
            uai = normalise_uai(establishment)
        except Exception as exc:  # noqa: BLE001 - mapped to a message
            fail(str(exc))
    selection = LetterSelection(departement=departement, uai=uai, only_new=new)

    with pending_file(out) as pending:

        async def work(platform: Platform) -> IssuedLetters:
            known = {d.code for d in platform.settings.academie.departement_list()}
            if departement and departement not in known:
                fail(
                    f"département inconnu « {departement} » (attendu : {', '.join(sorted(known))})"
                )
            return await issue_into(pending, platform.letters, selection, "cli")

        issued = with_platform(ctx, work)
    if issued.count == 0:
        OUT.print(f"Aucun courrier à éditer ({selection.describe()}).")
        return
    OUT.print(f"{issued.count} courrier(s) écrits dans {out} ({selection.describe()}).")
