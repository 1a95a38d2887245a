"""Building the settings from a TOML file and ``ACADEMAIL_*`` variables.

Precedence: defaults < TOML file < environment. A variable's name is the path of
the setting in capitals: ``[store] url`` is ``ACADEMAIL_STORE_URL``,
``[identity.password] time_cost`` is ``ACADEMAIL_IDENTITY_PASSWORD_TIME_COST``.
Lists are comma-separated in variables; lists of tables are JSON. An unknown key
or a value of the wrong type is an error that names the key, so a typo in a
deployment's file never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from academail.config.schema import Settings
from academail.core.errors import InvalidInput

__all__ = ["env_name", "load_settings", "validate"]

_PREFIX = "ACADEMAIL"


def env_name(path: tuple[str, ...]) -> str:
    """The environment variable of the setting at ``path``."""
    return "_".join((_PREFIX, *path)).upper()


def load_settings(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Reads the file (if any) and the environment, then validates."""
    environ = {} if environ is None else environ
    if config_file is None and environ.get("ACADEMAIL_CONFIG"):
        config_file = Path(environ["ACADEMAIL_CONFIG"])
    data: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InvalidInput(f"fichier de configuration introuvable : {config_file}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{config_file} : TOML invalide ({exc})") from exc
    settings: Settings = _build(Settings, data, (), environ)
    validate(settings)
    return settings


def _build(
    cls: type, data: Mapping[str, Any], path: tuple[str, ...], env: Mapping[str, str]
) -> Any:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"« {'.'.join(path)} » doit être une table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        where = ".".join(path) or "racine"
        raise InvalidInput(f"réglage inconnu dans [{where}] : {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        sub = (*path, f.name)
        if dataclasses.is_dataclass(hint):
            values[f.name] = _build(typing.cast(type, hint), data.get(f.name, {}), sub, env)
            continue
        variable = env_name(sub)
        if variable in env:
            values[f.name] = _from_env(hint, env[variable], variable)
        elif f.name in data:
            values[f.name] = _coerce(hint, data[f.name], ".".join(sub))
    return cls(**values)


def _from_env(hint: Any, raw: str, variable: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        if item is str:
            return [part.strip() for part in raw.split(",") if part.strip()]
        try:
            return _coerce(hint, json.loads(raw), variable)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{variable} : JSON attendu") from exc
    if hint is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "oui", "on"}:
            return True
        if lowered in {"0", "false", "no", "non", "off", ""}:
            return False
        raise InvalidInput(f"{variable} : booléen attendu (true/false)")
    return _coerce(hint, raw, variable)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Path:
        if not isinstance(value, str):
            raise InvalidInput(f"{key} : chemin attendu")
        return Path(value)
    if hint is int:
        if isinstance(value, bool):
            raise InvalidInput(f"{key} : entier attendu")
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{key} : entier attendu") from exc
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidInput(f"{key} : booléen attendu (true/false)")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise InvalidInput(f"{key} : texte attendu")
        return value
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(hint)
        return [_coerce(item, v, key) for v in value]
    if origin is dict and isinstance(value, Mapping):
        return {str(k): _coerce(str, v, key) for k, v in value.items()}
    if isinstance(hint, types.UnionType):  # pragma: no cover - no optional settings yet
        return value
    raise InvalidInput(f"{key} : valeur de type inattendu")


def validate(settings: Settings) -> None:
    """Cross-field and range checks; raises InvalidInput naming the setting."""
    ident = settings.identity
    if not 8 <= ident.login_max_length <= 64:
        raise InvalidInput("identity.login_max_length : entre 8 et 64")
    if ident.homonym_first_suffix < 1:
        raise InvalidInput("identity.homonym_first_suffix : au moins 1")
    if ident.temporary_password_length < 12:
        raise InvalidInput("identity.temporary_password_length : au moins 12")
    for name in ("deletion_grace_days", "activation_deadline_days", "lockout_minutes"):
        if getattr(ident, name) <= 0:
            raise InvalidInput(f"identity.{name} : doit être positif")
    if ident.identifier_reuse_after_days < 0:
        raise InvalidInput("identity.identifier_reuse_after_days : 0 (jamais) ou positif")
    for section in ("password", "temporary_password"):
        profile = getattr(ident, section)
        if profile.time_cost < 1 or profile.memory_kib < 8 or profile.parallelism < 1:
            raise InvalidInput(f"identity.{section} : paramètres argon2 invalides")
    domain = settings.academie.domain
    if "." not in domain or domain != domain.strip().lower():
        raise InvalidInput("academie.domain : nom de domaine en minuscules attendu")
    for entry in settings.academie.departements:
        missing = {"code", "name", "dsden", "phone", "email"} - set(entry)
        if missing:
            raise InvalidInput(f"academie.departements : champs manquants {sorted(missing)}")
    auth = settings.auth
    if auth.password_profile not in {"academie", "anssi"}:
        raise InvalidInput("auth.password_profile : academie ou anssi")
    for name in (
        "lockout_threshold",
        "ip_failure_limit",
        "ip_window_minutes",
        "session_idle_minutes",
    ):
        if getattr(auth, name) <= 0:
            raise InvalidInput(f"auth.{name} : doit être positif")
    if settings.notify.sms_driver not in {"outbox", "http"}:
        raise InvalidInput("notify.sms_driver : outbox ou http")
    if settings.notify.sms_driver == "http" and not settings.notify.sms_http_url:
        raise InvalidInput("notify.sms_http_url : obligatoire avec le pilote http")
    if settings.notify.email_driver not in {"mail", "outbox"}:
        raise InvalidInput("notify.email_driver : mail ou outbox")
    _validate_mail_transport(settings)
    if settings.logging.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise InvalidInput("logging.level : DEBUG, INFO, WARNING ou ERROR")
    url = settings.store.url
    if url and not url.startswith(("sqlite:", "postgresql:", "postgresql+asyncpg:", "postgres:")):
        raise InvalidInput("store.url : sqlite:///… ou postgresql://… attendu")


def _host_port(value: str, key: str) -> None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"{key} : hôte:port attendu (reçu « {value[:60]} »)")


def _validate_mail_transport(settings: Settings) -> None:
    smtp = settings.smtp
    for name in ("inbound_port", "submission_port", "submissions_port"):
        if not 0 <= getattr(smtp, name) < 65536:
            raise InvalidInput(f"smtp.{name} : port entre 0 et 65535")
    for name in (
        "max_message_bytes",
        "max_recipients",
        "messages_per_hour",
        "unknown_recipients_per_minute",
        "idle_timeout_seconds",
    ):
        if getattr(smtp, name) <= 0:
            raise InvalidInput(f"smtp.{name} : doit être positif")
    if bool(smtp.tls_cert) != bool(smtp.tls_key):
        raise InvalidInput("smtp.tls_cert et smtp.tls_key vont ensemble")
    queue = settings.queue
    if queue.smarthost:
        _host_port(queue.smarthost, "queue.smarthost")
    for server in queue.dns_servers:
        if ":" in server:
            _host_port(server, "queue.dns_servers")
    if not queue.retry_minutes or any(m <= 0 for m in queue.retry_minutes):
        raise InvalidInput("queue.retry_minutes : au moins un délai, tous positifs")
    for name in ("expiry_hours", "concurrency", "timeout_seconds", "relay_port"):
        if getattr(queue, name) <= 0:
            raise InvalidInput(f"queue.{name} : doit être positif")
