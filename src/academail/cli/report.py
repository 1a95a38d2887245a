"""Printing an HR import report: a table per section, or JSON."""

from __future__ import annotations

from rich.table import Table

from academail.cli.context import OUT
from academail.identity import ImportReport, ReportLine

__all__ = ["print_report"]

_SECTIONS = (
    ("created", "Créés", "green"),
    ("updated", "Modifiés", "cyan"),
    ("enabled", "Réactivés", "cyan"),
    ("disabled", "Désactivés", "yellow"),
    ("refused", "Refusés", "red"),
)


def _table(title: str, style: str, lines: list[ReportLine], limit: int) -> Table:
    table = Table(title=f"{title} ({len(lines)})", title_style=f"bold {style}", expand=False)
    for column in ("ligne", "agent", "identifiant", "adresse", "détail"):
        table.add_column(column, overflow="fold")
    for item in lines[:limit]:
        table.add_row(str(item.line or "–"), item.who, item.login, item.address, item.detail)
    if len(lines) > limit:
        table.add_row("…", f"et {len(lines) - limit} autres (voir --json)", "", "", "")
    return table


def print_report(report: ImportReport, limit: int = 50) -> None:
    mode = "simulation (--dry-run) : rien n'est écrit" if report.dry_run else "import"
    OUT.print(f"[bold]{report.source}[/] — {mode} — encodage {report.encoding}")
    for attr, title, style in _SECTIONS:
        lines: list[ReportLine] = getattr(report, attr)
        if lines:
            OUT.print(_table(title, style, lines, limit))
    counts = report.counts()
    OUT.print(" · ".join(f"{k} : {v}" for k, v in counts.items()))
    for note in report.notes:
        OUT.print(f"[bold yellow]{note}[/]")
    if report.aborted:
        OUT.print(f"[bold red]{report.aborted}[/]")
    elif report.applied:
        OUT.print("[bold green]Import appliqué.[/]")
