"""The settings schema: every setting with its type, default, help and variable.

One typed, frozen object (:class:`Settings`) is built once at start-up and passed
down; nothing reads the environment anywhere else. Each field carries its help
text in ``metadata["help"]`` so that the example configuration file
(``docs/academail.example.toml``) is generated from this schema and cannot drift
(a test compares them).

Defaults are those of the Académie d'Amiens, from the source documents in
``shared/seeds`` (domain, rectorat, DSDEN, support contacts).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "AcademieSettings",
    "Argon2Profile",
    "AuthSettings",
    "NotifySettings",
    "WebSettings",
    "Departement",
    "IdentitySettings",
    "ImportSettings",
    "LettersSettings",
    "LoggingSettings",
    "MailSettings",
    "QueueSettings",
    "Settings",
    "SmtpSettings",
    "StoreSettings",
    "help_of",
]


def _setting(default: Any, help: str) -> Any:  # noqa: A002 - "help" reads best here
    if isinstance(default, list | dict):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata={"help": help})
    return field(default=default, metadata={"help": help})


def help_of(section: type, name: str) -> str:
    """The help text of one field of a settings section."""
    for f in dataclasses.fields(section):
        if f.name == name:
            return str(f.metadata.get("help", ""))
    raise KeyError(name)


@dataclass(frozen=True)
class Departement:
    """A département of the académie and its DSDEN (services départementaux)."""

    code: str
    name: str
    dsden: str
    phone: str
    email: str


_AMIENS_DEPARTEMENTS = [
    {
        "code": "02",
        "name": "Aisne",
        "dsden": "DSDEN de l'Aisne",
        "phone": "03 23 26 22 00",
        "email": "ce.dsden02@ac-amiens.fr",
    },
    {
        "code": "60",
        "name": "Oise",
        "dsden": "DSDEN de l'Oise",
        "phone": "03 44 06 45 00",
        "email": "ce.dsden60@ac-amiens.fr",
    },
    {
        "code": "80",
        "name": "Somme",
        "dsden": "DSDEN de la Somme",
        "phone": "03 22 82 38 23",
        "email": "ce.dsden80@ac-amiens.fr",
    },
]


@dataclass(frozen=True)
class AcademieSettings:
    name: str = _setting("Académie d'Amiens", "Name printed on letters and pages.")
    code: str = _setting("20", "Académie code, the first two characters of its NUMENs.")
    domain: str = _setting("ac-amiens.fr", "Mail domain of the agents' addresses.")
    extra_domains: list[str] = _setting(
        [], "Other domains accepted for local delivery (aliases, test domains)."
    )
    rectorat: list[str] = _setting(
        [
            "Rectorat de l'académie d'Amiens",
            "Division des systèmes d'information",
            "20, boulevard d'Alsace-Lorraine",
            "80000 Amiens",
        ],
        "Sender block of the credential letters (one line per entry).",
    )
    city: str = _setting("Amiens", "City written before the date on letters.")
    portal_url: str = _setting(
        "https://moncompte.ac-amiens.fr", "Public address of the portal (letters, QR codes)."
    )
    support_phone: str = _setting("03 22 82 37 40", "Phone of the académie's assistance.")
    support_email: str = _setting("assistance@ac-amiens.fr", "Mail of the académie's assistance.")
    hacked_account_phone: str = _setting(
        "03 22 82 38 90", "Phone to call at once when an account is compromised."
    )
    departements: list[dict[str, str]] = _setting(
        _AMIENS_DEPARTEMENTS,
        "Départements with their DSDEN: code, name, dsden, phone, email.",
    )

    def departement_list(self) -> list[Departement]:
        return [Departement(**d) for d in self.departements]


@dataclass(frozen=True)
class StoreSettings:
    url: str = _setting(
        "",
        "Database URL. Empty: SQLite file academail.sqlite3 in the data directory. "
        "PostgreSQL: postgresql://user@host:5432/dbname.",
    )
    pool_size: int = _setting(10, "PostgreSQL connections per process.")


@dataclass(frozen=True)
class Argon2Profile:
    time_cost: int = _setting(2, "argon2id iterations.")
    memory_kib: int = _setting(19456, "argon2id memory in KiB (19 MiB: OWASP profile).")
    parallelism: int = _setting(1, "argon2id lanes.")


@dataclass(frozen=True)
class IdentitySettings:
    login_max_length: int = _setting(20, "Longest login (first letter + last name + digit).")
    homonym_first_suffix: int = _setting(
        1, "First digit given to a homonym (prenom.nom1). Some académies start at 2."
    )
    identifier_reuse_after_days: int = _setting(
        0,
        "Days after which an identifier of a deleted account may go to someone else. "
        "0: never (an identifier once given is never given to another person).",
    )
    deletion_grace_days: int = _setting(
        90, "Days a disabled (departed) account is kept before it is deleted."
    )
    activation_deadline_days: int = _setting(
        30, "Days a temporary password from a letter stays valid."
    )
    temporary_password_length: int = _setting(
        16, "Characters of a temporary password (readable alphabet, ~5 bits each)."
    )
    lockout_minutes: int = _setting(30, "Duration of a lock.")
    password: Argon2Profile = field(
        default_factory=Argon2Profile,
        metadata={"help": "argon2id cost for chosen passwords (~28 ms here by default)."},
    )
    temporary_password: Argon2Profile = field(
        default_factory=lambda: Argon2Profile(time_cost=1, memory_kib=1024, parallelism=1),
        metadata={
            "help": "argon2id cost for temporary passwords. They are random (80 bits), "
            "so the cost protects nothing more; cheap keeps letters fast."
        },
    )


@dataclass(frozen=True)
class AuthSettings:
    lockout_threshold: int = _setting(
        5, "Failed sign-ins (distinct wrong passwords) that lock the account."
    )
    ip_failure_limit: int = _setting(
        30, "Failed sign-ins from one IP address in the window before it is throttled."
    )
    ip_window_minutes: int = _setting(15, "Window of the per-IP failure counter.")
    password_profile: str = _setting(
        "academie",
        "Password policy: academie (12+ chars, 3 classes, 180-day expiry) or anssi "
        "(length and strength, no forced rotation). See the administrator's guide.",
    )
    password_expiry_days: int = _setting(
        180, "Days before a chosen password expires with the academie profile (0: never)."
    )
    password_warning_days: int = _setting(15, "Warnings (banner, e-mail) start this early.")
    password_history: int = _setting(5, "Recent passwords that may not be chosen again.")
    otp_required_roles: list[str] = _setting(
        ["DIR_ECOLE", "PERDIR", "IEN", "IA_IPR"],
        "Roles (HR codes) that must enrol a TOTP second factor at their next sign-in.",
    )
    admin_logins: list[str] = _setting(
        [], "Logins of platform administrators (OTP mandatory, outbox and console)."
    )
    failure_floor_ms: int = _setting(
        60, "Every failed sign-in answers after at least this long (no timing oracle)."
    )
    credentials_cache_minutes: int = _setting(
        15, "How long a verified protocol password is trusted without argon2."
    )
    session_idle_minutes: int = _setting(30, "Web session idle timeout.")
    session_absolute_hours: int = _setting(12, "Web session absolute lifetime.")
    reset_link_minutes: int = _setting(30, "Validity of a forgotten-password link.")
    confirmation_code_minutes: int = _setting(15, "Validity of a code sent by e-mail or SMS.")
    self_service_ip_limit: int = _setting(
        10, "Self-service tries (NUMEN pages, reset requests) from one IP address per window."
    )
    self_service_ip_window_minutes: int = _setting(15, "Window of the self-service IP counter.")
    self_service_numen_limit: int = _setting(
        5, "Identification tries for one NUMEN (any birth date) per window; beyond, refused."
    )
    self_service_numen_window_minutes: int = _setting(60, "Window of the per-NUMEN counter.")
    self_service_grant_minutes: int = _setting(
        15, "Time an identified visitor has to choose a password or read mail settings."
    )
    reset_requests_per_account: int = _setting(
        3, "Forgotten-password mails per account (or identifier) per hour; beyond, none sent."
    )
    captcha_minutes: int = _setting(10, "Validity of a captcha challenge (single use).")
    captcha_audio_per_ip: int = _setting(
        20, "Spoken captchas per IP address per self-service window (CPU-heavy)."
    )
    captcha_french_voices: bool = _setting(
        True,
        "Build French spoken digits for the audio captcha at init (needs espeak-ng and sox; "
        "without them, or off, the bundled English digits are used).",
    )


@dataclass(frozen=True)
class NotifySettings:
    email_driver: str = _setting(
        "mail",
        "mail: through the platform's mail path (local boxes, outbound queue), "
        "and kept in the outbox; outbox: kept in the outbox only.",
    )
    sms_driver: str = _setting("outbox", "outbox or http (a gateway taking a JSON POST).")
    sms_http_url: str = _setting("", "URL of the SMS gateway for the http driver.")
    sms_http_token: str = _setting("", "Bearer token of the SMS gateway (keep it secret).")
    sender: str = _setting(
        "Messagerie académique <ne-pas-repondre@ac-amiens.fr>", "From: of notifications."
    )
    support_alert_address: str = _setting(
        "assistance@ac-amiens.fr", 'Where alerts for support go ("it wasn\'t me").'
    )


_ALL = "*"
_TEACHING = "ENS1D,ENS2D,CPE,PSYEN,DIR_ECOLE,PERDIR,IEN,IA_IPR,AESH,CONTRACTUEL"
_APPLICATIONS = [
    {
        "id": "webmail",
        "name": "Messagerie",
        "url": "/webmail/",
        "roles": _ALL,
        "description": "Votre courrier académique (webmail).",
    },
    {
        "id": "arena",
        "name": "Arena",
        "url": "https://arena.ac-amiens.fr/",
        "roles": _ALL,
        "description": "Portail des applications de gestion.",
    },
    {
        "id": "iprof",
        "name": "I-Prof",
        "url": "https://bv.ac-amiens.fr/iprof/",
        "roles": _TEACHING,
        "description": "Dossier et carrière des enseignants.",
    },
    {
        "id": "magistere",
        "name": "M@gistère",
        "url": "https://magistere.education.fr/ac-amiens/",
        "roles": _ALL,
        "description": "Formation continue en ligne.",
    },
    {
        "id": "colibris",
        "name": "Colibris",
        "url": "https://colibris.ac-amiens.fr/",
        "roles": _ALL,
        "description": "Assistance et demandes d'intervention.",
    },
    {
        "id": "dtulysse",
        "name": "DT-Ulysse",
        "url": "https://dt.ac-amiens.fr/",
        "roles": _ALL,
        "description": "Frais de déplacement.",
    },
    {
        "id": "imagin",
        "name": "Imag'in",
        "url": "https://imagin.ac-amiens.fr/",
        "roles": "ENS1D,ENS2D,CPE,PSYEN,PERDIR,IEN,IA_IPR,ADM",
        "description": "Frais de jury d'examens et concours.",
    },
    {
        "id": "intranet",
        "name": "Intranet",
        "url": "https://intranet.ac-amiens.fr/",
        "roles": _ALL,
        "description": "Informations et documents de l'académie.",
    },
]


@dataclass(frozen=True)
class WebSettings:
    host: str = _setting("127.0.0.1", "Address the web server listens on.")
    port: int = _setting(8443, "Port of the web server (HTTPS).")
    public_url: str = _setting("", "Public base URL of the portal (default: academie.portal_url).")
    tls_cert: str = _setting(
        "", "PEM certificate chain; empty: the self-signed one made by init in the data dir."
    )
    tls_key: str = _setting("", "PEM private key for tls_cert.")
    forwarded_allow_ips: str = _setting(
        "", "Load balancers trusted for X-Forwarded-For (comma-separated IPs); empty: none."
    )
    allowed_hosts: list[str] = _setting(
        ["*"], "Host headers accepted (trusted host check); * accepts any."
    )
    demo: bool = _setting(False, "Demo mode: the outbox is readable by administrators.")
    imap_host: str = _setting("imap.ac-amiens.fr", "IMAP host shown in mail settings.")
    smtp_host: str = _setting("smtp.ac-amiens.fr", "SMTP submission host shown in mail settings.")
    pop_host: str = _setting("pop.ac-amiens.fr", "POP3 host shown in mail settings.")
    applications: list[dict[str, str]] = _setting(
        _APPLICATIONS,
        "Applications on the portal: id, name, url, description, roles "
        "(comma-separated HR codes, or * for every agent).",
    )


@dataclass(frozen=True)
class MailSettings:
    quota_bytes: int = _setting(2 * 1024**3, "Mailbox quota per account, in bytes (2 GiB).")
    quota_by_role: dict[str, str] = _setting(
        {}, "Per-role quota overrides in bytes, keyed by HR code (for example PERDIR: 5 GiB)."
    )
    blob_gc_grace_minutes: int = _setting(
        60, "An unreferenced message body is deleted after this delay (never while used)."
    )


@dataclass(frozen=True)
class SmtpSettings:
    hostname: str = _setting(
        "mx.ac-amiens.fr", "Name of this server in the SMTP greeting and Received: fields."
    )
    host: str = _setting("127.0.0.1", "Address the SMTP listeners bind to.")
    inbound_port: int = _setting(25, "Port for mail from other servers (MX); 0: no listener.")
    submission_port: int = _setting(587, "Submission with STARTTLS (RFC 6409); 0: no listener.")
    submissions_port: int = _setting(465, "Submission over TLS (RFC 8314); 0: no listener.")
    tls_cert: str = _setting("", "PEM certificate chain; empty: the web server's certificate.")
    tls_key: str = _setting("", "PEM private key for tls_cert.")
    max_message_bytes: int = _setting(35 * 1024 * 1024, "Largest message accepted (SIZE).")
    max_recipients: int = _setting(
        100, "Recipients per submitted message (limits a compromised account)."
    )
    messages_per_hour: int = _setting(
        300, "Messages an account may submit per hour; over it, support is alerted."
    )
    unknown_recipients_per_minute: int = _setting(
        10, "Unknown recipients tried per client address per minute before RCPT is deferred."
    )
    idle_timeout_seconds: int = _setting(300, "A silent SMTP session is closed after this.")


@dataclass(frozen=True)
class QueueSettings:
    smarthost: str = _setting(
        "", "host:port of a relay for all external mail; empty: MX lookup for each domain."
    )
    relay_port: int = _setting(25, "Port of the remote servers found by MX lookup.")
    dns_servers: list[str] = _setting(
        [], "Resolvers for MX lookup as ip or ip:port; empty: those of /etc/resolv.conf."
    )
    capture: bool = _setting(
        False, "Keep external mail in the local outbox instead of sending it (demo, tests)."
    )
    retry_minutes: list[int] = _setting(
        [5, 10, 20, 40, 80, 160, 240],
        "Delays between attempts; the last one repeats until expiry.",
    )
    expiry_hours: int = _setting(120, "A message not delivered after this is returned (DSN).")
    concurrency: int = _setting(10, "Deliveries in progress at once.")
    timeout_seconds: int = _setting(60, "Timeout of each step of a remote SMTP session.")
    require_tls_domains: list[str] = _setting(
        [], "Domains whose servers must offer STARTTLS with a valid certificate."
    )


@dataclass(frozen=True)
class ImportSettings:
    dialect: str = _setting("academail_csv", "HR export format (plugin name).")
    apply_valid_rows: bool = _setting(
        False,
        "false: a file with any malformed line changes nothing. "
        "true: the valid rows are applied and the malformed ones reported.",
    )


@dataclass(frozen=True)
class LettersSettings:
    font: str = _setting(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "TrueType font embedded in letters; must have every French glyph.",
    )
    font_bold: str = _setting(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "Bold variant."
    )


@dataclass(frozen=True)
class LoggingSettings:
    level: str = _setting("INFO", "DEBUG, INFO, WARNING or ERROR.")
    json: bool = _setting(False, "One JSON object per line (for a log collector).")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting(
        Path("academail-data"), "Data directory: SQLite file, keys, blobs, certificates."
    )
    academie: AcademieSettings = field(default_factory=AcademieSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    web: WebSettings = field(default_factory=WebSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    hr_import: ImportSettings = field(default_factory=ImportSettings)
    letters: LettersSettings = field(default_factory=LettersSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)

    @property
    def database_url(self) -> str:
        if self.store.url:
            return self.store.url
        return f"sqlite:///{(self.data_dir / 'academail.sqlite3').resolve()}"

    @property
    def all_domains(self) -> list[str]:
        return [self.academie.domain, *self.academie.extra_domains]
