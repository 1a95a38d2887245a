"""``academail staff``: HR import and the purge of departed agents."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from academail.cli.context import OUT, fail, with_platform
from academail.cli.report import print_report
from academail.identity import ImportReport
from academail.runtime import Platform

__all__ = ["staff_app"]

staff_app = typer.Typer(help="Annuaire des personnels : import RH, purge.", no_args_is_help=True)

_PROGRESS_FROM = 5000  # rows; below that the import is too quick for a bar


@staff_app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Export RH (CSV ; séparateur « ; »)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Simuler : ne rien écrire."),
    full: bool = typer.Option(
        False,
        "--full",
        help="Export complet : désactiver les agents absents du fichier (un agent dont "
        "la ligne est refusée n'est pas absent).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Rapport en JSON."),
    apply_valid_rows: bool | None = typer.Option(
        None,
        "--apply-valid-rows/--all-or-nothing",
        help="Appliquer les lignes valides malgré des lignes mal formées "
        "(sinon : réglage hr_import.apply_valid_rows).",
    ),
) -> None:
    """Importe un export RH : crée, met à jour, désactive ; rapport ligne par ligne."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"lecture impossible de {file} : {exc.strerror}")
    rows = data.count(b"\n")

    async def work(platform: Platform) -> ImportReport:
        if as_json or rows < _PROGRESS_FROM:
            return await platform.staff.run(
                data, str(file), dry_run=dry_run, full=full, apply_valid_rows=apply_valid_rows
            )
        columns = (TextColumn("préparation"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=OUT) as bar:
            task = bar.add_task("rows", total=rows)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await platform.staff.run(
                data,
                str(file),
                dry_run=dry_run,
                full=full,
                apply_valid_rows=apply_valid_rows,
                progress=progress,
            )

    report = with_platform(ctx, work)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str))
    else:
        print_report(report)
    if report.aborted:
        raise typer.Exit(3)


@staff_app.command("purge")
def purge(ctx: typer.Context) -> None:
    """Supprime les comptes désactivés dont le délai de grâce est écoulé."""
    logins = with_platform(ctx, lambda p: p.accounts.purge_expired("cli"))
    OUT.print(f"{len(logins)} compte(s) supprimé(s).")
    for login in logins:
        OUT.print(f"  {login}")
