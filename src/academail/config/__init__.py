"""Settings: the schema, loading from TOML and ``ACADEMAIL_*`` variables, validation."""

from academail.config.example import render_example
from academail.config.load import env_name, load_settings, validate
from academail.config.schema import (
    AcademieSettings,
    Argon2Profile,
    AuthSettings,
    Departement,
    IdentitySettings,
    ImportSettings,
    LettersSettings,
    LoggingSettings,
    NotifySettings,
    Settings,
    StoreSettings,
    WebSettings,
)

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
    "Settings",
    "StoreSettings",
    "env_name",
    "load_settings",
    "render_example",
    "validate",
]
