"""``academail serve``: the web server (uvicorn, HTTPS) on the platform's event loop.

Listeners for IMAP, SMTP and POP3 join this same loop in later issues (architecture:
one asyncio event loop, one TaskGroup).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import uvicorn

from academail.config import Settings
from academail.core.clock import Clock
from academail.core.offload import off_loop
from academail.identity.policy import warm_up
from academail.runtime.platform import open_platform
from academail.runtime.tls import ensure_self_signed
from academail.web import create_app

__all__ = ["serve", "tls_files"]


def tls_files(settings: Settings) -> tuple[str, str]:
    web = settings.web
    if web.tls_cert and web.tls_key:
        return web.tls_cert, web.tls_key
    public = urlsplit(web.public_url or settings.academie.portal_url).hostname or "localhost"
    cert, key = ensure_self_signed(settings.data_dir, [public, "localhost", "127.0.0.1", web.host])
    return str(cert), str(key)


async def serve(settings: Settings, clock: Clock | None = None) -> None:
    """Runs until cancelled (Ctrl-C)."""
    cert, key = tls_files(settings)
    await off_loop(warm_up)  # the French word lists: the first agent should not wait
    async with open_platform(settings, clock) as platform:
        config = uvicorn.Config(
            create_app(platform),
            host=settings.web.host,
            port=settings.web.port,
            ssl_certfile=cert,
            ssl_keyfile=key,
            log_level="warning",
            # Behind a load balancer, the client address comes from X-Forwarded-For
            # of the listed proxies only (the per-IP limits depend on it).
            proxy_headers=bool(settings.web.forwarded_allow_ips),
            forwarded_allow_ips=settings.web.forwarded_allow_ips or None,
            access_log=False,  # URLs may carry single-use tokens (reset, "pas-moi")
            server_header=False,
            lifespan="off",
        )
        await uvicorn.Server(config).serve()
