"""``academail demo-data`` and ``academail demo``: a believable académie in one command."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import typer

from academail.cli.context import OUT, run_async, settings_from, with_platform
from academail.cli.output import issue_into, pending_file
from academail.cli.report import print_report
from academail.identity import ImportReport
from academail.identity.hr import generate_export
from academail.letters import IssuedLetters, LetterSelection
from academail.runtime import Platform, initialise

__all__ = ["demo", "demo_data"]


def demo_data(
    agents: int = typer.Option(1000, "--agents", min=1, max=200_000, help="Nombre d'agents."),
    out: Path = typer.Option(Path("export-rh.csv"), "--out", help="Fichier CSV à écrire."),
    seed: int = typer.Option(2026, "--seed", help="Graine (même graine, même fichier)."),
    with_invalid: bool = typer.Option(
        False, "--with-invalid", help="Ajouter quelques lignes refusées (élève, NUMEN faux…)."
    ),
) -> None:
    """Écrit un export RH fictif réaliste (noms français, homonymes, 3 départements)."""
    text = generate_export(agents, seed=seed, include_invalid=with_invalid)
    out.write_text(text, encoding="utf-8")
    OUT.print(f"{agents} agents écrits dans {out}")


def _command() -> str:
    """How to call academail again: by name if it is on the PATH, else by its path."""
    found = shutil.which("academail")
    if found and Path(found).resolve() == Path(sys.argv[0]).resolve():
        return "academail"
    return str(Path(sys.argv[0]).resolve()) if sys.argv[0].endswith("academail") else "academail"


def demo(
    ctx: typer.Context,
    agents: int = typer.Option(300, "--agents", min=10, max=200_000, help="Taille de l'académie."),
) -> None:
    """Initialise une académie de démonstration (SQLite) : import RH et courriers."""
    settings = settings_from(ctx)
    run_async(initialise(settings))
    folder = settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    export = folder / "export-rh.csv"
    if not export.exists():
        export.write_text(generate_export(agents, include_invalid=True), encoding="utf-8")

    letters = folder / "courriers-nouveaux.pdf"
    with pending_file(letters) as pending:

        async def work(platform: Platform) -> tuple[ImportReport, IssuedLetters, list[str]]:
            report = await platform.staff.run(
                export.read_bytes(), str(export), apply_valid_rows=True
            )
            selection = LetterSelection(only_new=True)
            issued = await issue_into(pending, platform.letters, selection, "demo")
            return report, issued, list(issued.logins[:5])

        report, issued, sample = with_platform(ctx, work)
    print_report(report, limit=8)
    OUT.print()
    OUT.print("[bold]Démonstration prête.[/]")
    OUT.print(f"  Données : {settings.data_dir.resolve()}")
    OUT.print(f"  Export RH importé : {export}")
    if issued.count:
        OUT.print(f"  Courriers d'identifiants ({issued.count} pages) : {letters}")
    elif letters.exists():
        OUT.print(f"  Courriers déjà édités : {letters}")
    command = _command()
    OUT.print("  Essayez :")
    for login in sample[:3] or ["<identifiant>"]:
        OUT.print(f"    {command} --data-dir {settings.data_dir} account show {login}")
    OUT.print(f"    {command} --data-dir {settings.data_dir} staff import {export} --dry-run")
    OUT.print(
        "  Le portail web, la messagerie (IMAP/SMTP) et le webmail arrivent avec les "
        "prochaines étapes ; les identifiants et mots de passe provisoires des courriers "
        "y serviront pour l'activation."
    )
