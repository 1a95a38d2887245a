"""``academail demo-data`` and ``academail demo``: a believable académie in one command."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer

from academail.cli.context import OUT, run_async, settings_from
from academail.cli.output import issue_into, pending_file
from academail.cli.report import print_report
from academail.config import Settings
from academail.identity import ImportReport
from academail.identity.hr import generate_export
from academail.letters import IssuedLetters, LetterSelection
from academail.runtime import Platform, initialise, open_platform, serve
from academail.runtime.demo import DemoAccounts, demo_accounts
from academail.runtime.demo_mail import seed_demo_mail

__all__ = ["demo", "demo_data", "demo_settings"]

T = TypeVar("T")
DEMO_SMTP_PORTS = (2525, 5587, 5465)  # inbound, submission (STARTTLS), submissions (TLS)


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


def demo_settings(settings: Settings, port: int, admin: str | None = None) -> Settings:
    """The demo's overrides: demo mode (outbox readable), loopback URL, its administrator."""
    public = f"https://127.0.0.1:{port}"
    web = dataclasses.replace(
        settings.web,
        demo=True,
        port=port,
        host="127.0.0.1",
        public_url=settings.web.public_url or public,
        allowed_hosts=["127.0.0.1", "localhost"],
    )
    auth = settings.auth
    if admin and admin not in auth.admin_logins:
        auth = dataclasses.replace(auth, admin_logins=[*auth.admin_logins, admin])
    # Ports a normal user may open, on loopback; external mail is captured, not sent.
    smtp = dataclasses.replace(
        settings.smtp,
        host="127.0.0.1",
        inbound_port=DEMO_SMTP_PORTS[0],
        submission_port=DEMO_SMTP_PORTS[1],
        submissions_port=DEMO_SMTP_PORTS[2],
    )
    queue = dataclasses.replace(settings.queue, capture=True)
    return dataclasses.replace(settings, web=web, auth=auth, smtp=smtp, queue=queue)


def demo(
    ctx: typer.Context,
    agents: int = typer.Option(300, "--agents", min=10, max=200_000, help="Taille de l'académie."),
    port: int = typer.Option(8443, "--port", help="Port HTTPS du portail."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Préparer sans démarrer le portail."),
) -> None:
    """Prépare une académie de démonstration (SQLite) puis démarre le portail."""
    settings = demo_settings(settings_from(ctx), port)
    run_async(initialise(settings))
    folder = settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    export = folder / "export-rh.csv"
    if not export.exists():
        export.write_text(generate_export(agents, include_invalid=True), encoding="utf-8")

    letters = folder / "courriers-nouveaux.pdf"
    with pending_file(letters) as pending:

        async def work(
            platform: Platform,
        ) -> tuple[ImportReport, IssuedLetters, DemoAccounts, dict[str, str]]:
            report = await platform.staff.run(
                export.read_bytes(), str(export), apply_valid_rows=True
            )
            selection = LetterSelection(only_new=True)
            issued = await issue_into(pending, platform.letters, selection, "demo")
            accounts = await demo_accounts(platform, folder)
            await seed_demo_mail(platform, accounts, folder)
            addresses = {}
            for login in (accounts.teacher, accounts.director, accounts.admin):
                addresses[login] = (await platform.accounts.show(login)).record.address
            return report, issued, accounts, addresses

        report, issued, accounts, addresses = run_async(_with(settings, work))
    print_report(report, limit=8)
    _print_guide(settings, export, letters, issued, accounts, addresses)
    if not no_serve:
        final = demo_settings(settings, port, accounts.admin)
        try:
            asyncio.run(serve(final))
        except KeyboardInterrupt:
            OUT.print("Arrêt de la démonstration.")


async def _with(settings: Settings, work: Callable[[Platform], Awaitable[T]]) -> T:
    async with open_platform(settings) as platform:
        return await work(platform)


def _print_guide(
    settings: Settings,
    export: Path,
    letters: Path,
    issued: IssuedLetters,
    accounts: DemoAccounts,
    addresses: dict[str, str],
) -> None:
    url = settings.web.public_url
    OUT.print()
    OUT.print("[bold]Démonstration prête.[/]")
    OUT.print(f"  Portail : [bold]{url}/[/]  (certificat auto-signé : acceptez l'avertissement)")
    OUT.print(f"  Mot de passe des comptes de démonstration : [bold]{accounts.password}[/]")
    teacher, director, admin = accounts.teacher, accounts.director, accounts.admin
    OUT.print(f"    enseignant       : {teacher}  <{addresses[teacher]}>")
    OUT.print(
        f"    directeur d'école : {director}  <{addresses[director]}>"
        "  (double authentification à activer)"
    )
    OUT.print(
        f"    administrateur   : {admin}  <{addresses[admin]}>  (double authentification d'abord)"
    )
    OUT.print(
        f"  Première connexion : {accounts.newcomer} avec le mot de passe provisoire "
        f"[bold]{accounts.newcomer_password}[/] (parcours d'activation)"
    )
    OUT.print(
        f"  Courriels et SMS envoyés (codes, liens) : {url}/console/courriers (administrateur)"
    )
    smtp = settings.smtp
    OUT.print(
        f"  Messagerie : envoi SMTP sur {smtp.host}:{smtp.submission_port} (STARTTLS) ou "
        f"{smtp.submissions_port} (TLS), identifiant et mot de passe du compte ; "
        f"réception (MX) sur {smtp.host}:{smtp.inbound_port}"
    )
    OUT.print(
        "  Courrier de démonstration dans les boîtes de l'enseignant, du directeur et de "
        "l'administrateur ; le courrier externe est retenu (jamais envoyé) et lisible "
        f"dans la console : {url}/console/courriels-retenus (administrateur)"
    )
    OUT.print(
        f"  Authentification unique : {url}/.well-known/openid-configuration (OpenID Connect),"
        f" {url}/cas/login (CAS 3.0)"
    )
    OUT.print(f"  Données : {settings.data_dir.resolve()}")
    OUT.print(f"  Export RH importé : {export}")
    if issued.count:
        OUT.print(f"  Courriers d'identifiants ({issued.count} pages) : {letters}")
    elif letters.exists():
        OUT.print(f"  Courriers déjà édités : {letters}")
    command = _command()
    OUT.print("  En ligne de commande :")
    OUT.print(f"    {command} --data-dir {settings.data_dir} account show {accounts.teacher}")
    OUT.print(f"    {command} --data-dir {settings.data_dir} staff import {export} --dry-run")
    OUT.print(
        f'    {command} --data-dir {settings.data_dir} sso client add "Mon application"'
        " --redirect-uri https://app.example/retour"
    )
