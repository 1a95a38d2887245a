"""``academail sso``: register the applications that sign agents in through the portal.

``client`` manages OpenID Connect clients (a secret is shown once, at creation; the
database keeps only its keyed hash), ``service`` manages CAS services, and
``rotate-key`` replaces the ID-token signing key (the previous public key stays in
the JWKS). Every change is audited.
"""

from __future__ import annotations

import typer
from rich.table import Table

from academail.cli.context import OUT, settings_from, with_platform
from academail.identity.sso import ClientRow, ServiceRow, issuer_of, rotate_signing_key
from academail.runtime import Platform

__all__ = ["sso_app"]

sso_app = typer.Typer(help="Authentification unique : clients OIDC, services CAS.")
client_app = typer.Typer(help="Clients OpenID Connect.", no_args_is_help=True)
service_app = typer.Typer(help="Services CAS.", no_args_is_help=True)
sso_app.add_typer(client_app, name="client")
sso_app.add_typer(service_app, name="service")


@client_app.command("add")
def client_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Nom de l'application, affiché aux agents."),
    redirect_uri: list[str] = typer.Option(
        ..., "--redirect-uri", help="Adresse de retour exacte (répétable)."
    ),
    post_logout_uri: list[str] = typer.Option(
        [], "--post-logout-uri", help="Adresse de retour après déconnexion (répétable)."
    ),
    backchannel_uri: str | None = typer.Option(
        None, "--backchannel-logout-uri", help="Adresse qui reçoit le logout_token."
    ),
    public: bool = typer.Option(
        False, "--public", help="Client public (sans secret, PKCE seul : application mobile)."
    ),
    client_id: str | None = typer.Option(None, "--client-id", help="Identifiant choisi."),
) -> None:
    """Enregistre un client OIDC ; le secret n'est affiché qu'une fois."""

    async def work(platform: Platform) -> tuple[ClientRow, str | None]:
        return await platform.sso.registry.add_client(
            name, redirect_uri, post_logout_uri, backchannel_uri, public, client_id
        )

    row, secret = with_platform(ctx, work)
    OUT.print(f"client_id : {row.client_id}")
    if secret:
        OUT.print(f"client_secret : {secret}")
        OUT.print("[bold]Notez ce secret maintenant : il ne sera plus jamais affiché.[/]")
    OUT.print(f"Découverte : {issuer_of(settings_from(ctx))}/.well-known/openid-configuration")


@client_app.command("list")
def client_list(ctx: typer.Context) -> None:
    """Liste les clients OIDC enregistrés."""
    rows = with_platform(ctx, lambda p: p.sso.registry.clients())
    table = Table("client_id", "Nom", "Type", "Adresses de retour", "Back-channel")
    for r in rows:
        kind = "public" if r.secret_hash is None else "confidentiel"
        uris = "\n".join(r.redirect_uris)
        table.add_row(r.client_id, r.name, kind, uris, r.backchannel_logout_uri or "–")
    OUT.print(table)


@client_app.command("remove")
def client_remove(ctx: typer.Context, client_id: str = typer.Argument(...)) -> None:
    """Supprime un client : il ne peut plus obtenir de code."""
    with_platform(ctx, lambda p: p.sso.registry.remove_client(client_id))
    OUT.print(f"Client {client_id} supprimé.")


@service_app.command("add")
def service_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Nom de l'application."),
    url: str = typer.Argument(..., help="Adresse exacte du service (sans paramètres)."),
    logout_url: str | None = typer.Option(
        None, "--logout-url", help="Adresse qui reçoit la déconnexion (SAML logoutRequest)."
    ),
) -> None:
    """Enregistre un service CAS."""

    async def work(platform: Platform) -> ServiceRow:
        return await platform.sso.registry.add_service(name, url, logout_url)

    row = with_platform(ctx, work)
    OUT.print(f"Service {row.name} enregistré : {row.service_url}")
    OUT.print(f"Serveur CAS : {issuer_of(settings_from(ctx))}/cas/")


@service_app.command("list")
def service_list(ctx: typer.Context) -> None:
    """Liste les services CAS enregistrés."""
    rows = with_platform(ctx, lambda p: p.sso.registry.services())
    table = Table("Nom", "Service", "Déconnexion")
    for r in rows:
        table.add_row(r.name, r.service_url, r.logout_url or "–")
    OUT.print(table)


@service_app.command("remove")
def service_remove(ctx: typer.Context, url: str = typer.Argument(...)) -> None:
    """Supprime un service CAS."""
    with_platform(ctx, lambda p: p.sso.registry.remove_service(url))
    OUT.print(f"Service {url} supprimé.")


@sso_app.command("rotate-key")
def rotate_key(ctx: typer.Context) -> None:
    """Crée une nouvelle clé de signature ; l'ancienne clé publique reste publiée."""
    kid = rotate_signing_key(settings_from(ctx).data_dir)
    OUT.print(f"Nouvelle clé : kid={kid}. Redémarrez le serveur pour l'utiliser.")
