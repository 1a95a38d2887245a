"""``academail init``, ``migrate`` and ``config``: setting up a data directory."""

from __future__ import annotations

import json

import typer

from academail.cli.context import OUT, run_async, settings_from
from academail.config import render_example, settings_for_display
from academail.runtime import initialise

__all__ = ["config_app", "init", "migrate"]

config_app = typer.Typer(
    help="Réglages : exemple commenté, valeurs en vigueur.", no_args_is_help=True
)


def init(ctx: typer.Context) -> None:
    """Crée le répertoire de données, les clés (mode 0600) et le schéma ; idempotent."""
    report = run_async(initialise(settings_from(ctx)))
    OUT.print(f"Répertoire de données : {report.data_dir}")
    OUT.print(f"Base : {report.database}")
    if report.keys_created:
        OUT.print(f"Clés créées : {', '.join(report.keys_created)}")
    OUT.print("Schéma à jour.")


def migrate(ctx: typer.Context) -> None:
    """Met le schéma de la base à jour (migrations Alembic)."""
    init(ctx)


@config_app.command("example")
def config_example() -> None:
    """Affiche le fichier de configuration d'exemple, chaque réglage documenté."""
    typer.echo(render_example(), nl=False)


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Affiche les réglages en vigueur (fichier + variables ACADEMAIL_*), secrets masqués."""
    data = settings_for_display(settings_from(ctx))
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
