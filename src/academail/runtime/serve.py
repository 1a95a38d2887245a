"""``academail serve``: the whole platform on one event loop.

Architecture: one asyncio loop, one TaskGroup — the web server (uvicorn, HTTPS),
the SMTP listeners (inbound 25, submission 587 and 465) and the background
workers (the outbound queue, blob garbage collection). A listener
that cannot bind (port taken, no privilege for a port below 1024) stops the start
with a message naming the setting, rather than serving half a platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from urllib.parse import urlsplit

import structlog
import uvicorn

from academail.config import Settings
from academail.core.clock import Clock
from academail.core.offload import off_loop
from academail.delivery.queue import QueueWorker
from academail.identity.policy import warm_up
from academail.runtime.platform import Platform, open_platform
from academail.runtime.tls import ensure_self_signed
from academail.smtp import ListenerBindError, SmtpServices, start_smtp
from academail.smtp.relay import SmtpRelay
from academail.web import create_app

__all__ = ["ListenerError", "serve", "smtp_tls_context", "tls_files"]

log = structlog.get_logger(__name__)
GC_INTERVAL_SECONDS = 600
NOTIFY_RESEND_SECONDS = 300


class ListenerError(RuntimeError):
    """A listener could not start; the text names the setting to change."""


def tls_files(settings: Settings) -> tuple[str, str]:
    web = settings.web
    if web.tls_cert and web.tls_key:
        return web.tls_cert, web.tls_key
    public = urlsplit(web.public_url or settings.academie.portal_url).hostname or "localhost"
    names = [public, "localhost", "127.0.0.1", web.host, settings.smtp.hostname]
    cert, key = ensure_self_signed(settings.data_dir, list(dict.fromkeys(names)))
    return str(cert), str(key)


def smtp_tls_context(settings: Settings) -> ssl.SSLContext:
    """The server context of the SMTP listeners: their own certificate or the web's."""
    if settings.smtp.tls_cert and settings.smtp.tls_key:
        cert, key = settings.smtp.tls_cert, settings.smtp.tls_key
    else:
        cert, key = tls_files(settings)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


async def start_mail_listeners(platform: Platform) -> list[asyncio.Server]:
    """The SMTP listeners named by the settings (a port of 0 means none)."""
    try:
        return await start_smtp(SmtpServices.of(platform), smtp_tls_context(platform.settings))
    except ListenerBindError as exc:
        raise ListenerError(str(exc)) from exc


async def _resend_notifications_forever(platform: Platform) -> None:
    """Notifications recorded but never handed to the mail path (a stop in between)."""
    while True:
        await asyncio.sleep(NOTIFY_RESEND_SECONDS)
        try:
            await platform.notifier.resend_unsent(
                dt.timedelta(seconds=NOTIFY_RESEND_SECONDS), dt.timedelta(days=1)
            )
        except Exception:  # retried at the next pass; never kills serve
            log.exception("notification resend failed")


async def _collect_garbage_forever(platform: Platform) -> None:
    while True:
        await asyncio.sleep(GC_INTERVAL_SECONDS)
        try:
            removed = await platform.mail.collect_garbage()
        except Exception:  # a failed pass is retried at the next one; never kills serve
            log.exception("blob garbage collection failed")
        else:
            if removed:
                log.info("blob garbage collection", removed=removed)


def _web_server(platform: Platform, cert: str, key: str) -> uvicorn.Server:
    settings = platform.settings
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
    return uvicorn.Server(config)


async def serve(settings: Settings, clock: Clock | None = None) -> None:
    """Runs until cancelled (Ctrl-C); stops every listener and worker on the way out."""
    cert, key = tls_files(settings)
    # The French word lists load in a thread while the listeners start: the first
    # password check should not wait for them, and neither should the mail.
    warming = asyncio.ensure_future(off_loop(warm_up))
    async with open_platform(settings, clock) as platform:
        servers = await start_mail_listeners(platform)
        await warming
        try:
            async with asyncio.TaskGroup() as tasks:
                worker = QueueWorker(platform.queue, SmtpRelay(platform.settings), platform.router)
                workers = [
                    tasks.create_task(_collect_garbage_forever(platform)),
                    tasks.create_task(_resend_notifications_forever(platform)),
                    tasks.create_task(worker.run_forever()),
                ]
                # uvicorn handles SIGINT/SIGTERM and returns: the workers stop with it.
                web = tasks.create_task(_web_server(platform, cert, key).serve())
                web.add_done_callback(lambda _done: [w.cancel() for w in workers])
        finally:
            for server in servers:
                server.close()
            for server in servers:
                with contextlib.suppress(Exception):
                    await server.wait_closed()
