"""The composition root: builds the store, the keys and the services once.

Nothing else constructs services; adapters (the CLI today, the servers later)
receive a :class:`Platform` and call its services. ``runtime`` imports
everything and nothing imports it but the adapters' entry points.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from academail.blobs import FileBlobStore
from academail.config import Settings, mask_url
from academail.core.clock import Clock, SystemClock
from academail.core.keys import Keys, ensure_keys, load_keys
from academail.core.offload import off_loop
from academail.delivery import HopLimit, LocalDelivery, MailRouter, Pipeline, SystemMail
from academail.delivery.queue import MailQueue
from academail.delivery.queue.dsn import Bouncer
from academail.identity import AccountService, StaffImporter
from academail.identity.authenticate import Authenticator
from academail.identity.captcha import build_french_voices
from academail.identity.credentials import CredentialService
from academail.identity.mail_policy import MailPolicy
from academail.identity.passwords import HashCost
from academail.identity.recovery import RecoveryService
from academail.identity.second_factor import SecondFactorService
from academail.identity.sessions import SessionService
from academail.identity.sso import SsoService, ensure_signing_key
from academail.letters import LetterService
from academail.mail import MailStore, RecipientResolver
from academail.mail.feed import CHANNEL as MAIL_CHANNEL
from academail.notify import HttpSms, OutboxNotifier
from academail.store import Connection, Store, open_store, upgrade
from academail.store import directory as directory_repo
from academail.store.notify import start_listener

__all__ = ["InitReport", "Platform", "initialise", "open_platform"]


@dataclass(frozen=True)
class Platform:
    settings: Settings
    clock: Clock
    store: Store
    keys: Keys
    blobs: FileBlobStore
    staff: StaffImporter
    accounts: AccountService
    letters: LetterService
    notifier: OutboxNotifier
    authenticator: Authenticator
    credentials: CredentialService
    sessions: SessionService
    recovery: RecoveryService
    second_factor: SecondFactorService
    mail: MailStore
    sso: SsoService
    queue: MailQueue
    router: MailRouter
    mail_policy: MailPolicy


@dataclass(frozen=True)
class InitReport:
    data_dir: str
    keys_created: list[str]
    database: str


def _private_directory(path: Path) -> None:
    """Creates ``path`` if needed and makes it 0700: it holds keys, the database, blobs."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


async def initialise(settings: Settings) -> InitReport:
    """``academail init``: data directory (0700), keys (0600), schema, départements.

    Idempotent; also tightens the mode of a data directory made by an older version.
    """
    _private_directory(settings.data_dir)
    created = ensure_keys(settings.data_dir)
    # RSA key generation is CPU work in a thread: it overlaps the migrations below.
    signing = asyncio.ensure_future(off_loop(ensure_signing_key, settings.data_dir))
    store = open_store(settings.database_url, pool_size=settings.store.pool_size)
    try:
        await upgrade(store)
        rows = [
            {"code": d.code, "name": d.name, "dsden": d.dsden}
            for d in settings.academie.departement_list()
        ]

        def work(conn: Connection) -> None:
            directory_repo.upsert_departements(conn, rows)

        await store.run(work)
    finally:
        await store.close()
    if await signing:
        created.append("oidc-signing")
    voices = settings.data_dir / "voices"
    if settings.auth.captcha_french_voices and not (voices / "9" / "fr.wav").exists():
        await off_loop(build_french_voices, voices)  # False without the tools: English digits
    return InitReport(str(settings.data_dir.resolve()), created, mask_url(settings.database_url))


@asynccontextmanager
async def open_platform(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Platform]:
    """Opens an initialised platform; closes the store on exit."""
    clock = clock or SystemClock()
    keys = load_keys(settings.data_dir)
    store = open_store(settings.database_url, pool_size=settings.store.pool_size)
    profile = settings.identity.password
    cost = HashCost(profile.time_cost, profile.memory_kib, profile.parallelism)
    notify = settings.notify
    gateway = (
        HttpSms(notify.sms_http_url, notify.sms_http_token) if notify.sms_driver == "http" else None
    )
    notifier = OutboxNotifier(store, clock, gateway)
    authenticator = Authenticator(store, clock, keys, settings, notifier, cost)
    accounts = AccountService(store, clock, settings)
    credentials = CredentialService(store, clock, keys, settings, notifier, authenticator, cost)
    sessions = SessionService(store, clock, settings)
    blobs = FileBlobStore(settings.data_dir / "blobs")
    mail = MailStore(store, blobs, clock, settings)
    credentials.on_activated.append(mail.ensure_mailboxes)
    queue = MailQueue(store, blobs, clock, settings)
    pipeline = Pipeline([HopLimit()])
    router = MailRouter(RecipientResolver(store, settings), LocalDelivery(mail, pipeline), queue)
    router.failures = Bouncer(router, blobs, clock, settings.smtp.hostname)
    if notify.email_driver == "mail":
        notifier.mailer = SystemMail(router, clock, notify.sender, settings.academie.domain)
    # PostgreSQL: one LISTEN connection brings other processes' mail changes (SQLite: None).
    listener = await start_listener(
        store,
        {MAIL_CHANNEL: mail.feed.receive},
        on_listening=mail.feed.resync_all,
        on_trouble=mail.feed.listener_trouble,
    )
    try:
        yield Platform(
            settings=settings,
            clock=clock,
            store=store,
            keys=keys,
            blobs=blobs,
            mail=mail,
            staff=StaffImporter(store, clock, keys, settings),
            accounts=accounts,
            letters=LetterService(store, clock, keys, settings, authenticator),
            notifier=notifier,
            authenticator=authenticator,
            credentials=credentials,
            sessions=sessions,
            recovery=RecoveryService(
                store,
                clock,
                keys,
                settings,
                notifier,
                credentials,
                authenticator,
                accounts,
                sessions,
            ),
            second_factor=SecondFactorService(store, clock, settings, notifier, authenticator),
            sso=SsoService(store, clock, keys, settings, settings.data_dir),
            queue=queue,
            router=router,
            mail_policy=MailPolicy(store, clock, settings, notifier),
        )
    finally:
        await notifier.settle()  # notifications being handed to the mail path
        if listener is not None:
            await listener.stop()
        await store.close()
