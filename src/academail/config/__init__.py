"""Settings: the schema, loading from TOML and ``ACADEMAIL_*`` variables, validation."""

from academail.config.example import (
    is_secret_name,
    mask_url,
    render_example,
    settings_for_display,
)
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
    MailSettings,
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
    "MailSettings",
    "Settings",
    "StoreSettings",
    "env_name",
    "is_secret_name",
    "load_settings",
    "mask_url",
    "render_example",
    "settings_for_display",
    "validate",
]
