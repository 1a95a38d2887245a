"""The ``academail`` command line (typer). Thin: commands call runtime's services."""

from __future__ import annotations

from pathlib import Path

import typer

from academail.cli.account import account_app
from academail.cli.admin import config_app, init, migrate
from academail.cli.demo import demo, demo_data
from academail.cli.letters import letters
from academail.cli.queue import queue_app
from academail.cli.serve import serve
from academail.cli.sso import sso_app
from academail.cli.staff import staff_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="academail",
    help="academail : la messagerie de l'académie (annuaire, comptes, courriers).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", help="Fichier TOML de réglages (ou ACADEMAIL_CONFIG)."
    ),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Répertoire de données (ou ACADEMAIL_DATA_DIR)."
    ),
) -> None:
    ctx.ensure_object(dict).update(config=config, data_dir=data_dir)


app.command("init")(init)
app.command("migrate")(migrate)
app.command("letters")(letters)
app.command("demo-data")(demo_data)
app.command("demo")(demo)
app.command("serve")(serve)
app.add_typer(config_app, name="config")
app.add_typer(staff_app, name="staff")
app.add_typer(account_app, name="account")
app.add_typer(sso_app, name="sso")
app.add_typer(queue_app, name="queue")


def main() -> None:
    app()
