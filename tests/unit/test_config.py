"""Settings: defaults of the Académie d'Amiens, TOML, variables, errors, example file."""

from __future__ import annotations

from pathlib import Path

import pytest

from academail.config import (
    is_secret_name,
    load_settings,
    mask_url,
    render_example,
    settings_for_display,
)
from academail.core.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_amiens():
    s = load_settings()
    assert s.academie.domain == "ac-amiens.fr"
    assert [d.code for d in s.academie.departement_list()] == ["02", "60", "80"]
    assert s.academie.support_email == "assistance@ac-amiens.fr"
    assert s.identity.deletion_grace_days == 90
    assert s.identity.activation_deadline_days == 30
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("academail.sqlite3")


def test_toml_then_environment(tmp_path):
    config = tmp_path / "a.toml"
    config.write_text(
        '[academie]\ndomain = "ac-caen.fr"\n[identity]\nhomonym_first_suffix = 2\n'
        "[identity.password]\ntime_cost = 3\n",
        encoding="utf-8",
    )
    s = load_settings(
        config,
        {
            "ACADEMAIL_IDENTITY_HOMONYM_FIRST_SUFFIX": "1",
            "ACADEMAIL_STORE_URL": "postgresql://u@h/db",
        },
    )
    assert s.academie.domain == "ac-caen.fr"
    assert s.identity.homonym_first_suffix == 1
    assert s.identity.password.time_cost == 3
    assert s.store.url == "postgresql://u@h/db"
    assert s.database_url == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("toml", "env", "needle"),
    [
        ("[identity]\nlogin_max_lenght = 10\n", {}, "login_max_lenght"),
        ("[identity]\nlogin_max_length = 'dix'\n", {}, "identity.login_max_length"),
        ("", {"ACADEMAIL_IDENTITY_LOGIN_MAX_LENGTH": "2"}, "login_max_length"),
        (
            "",
            {"ACADEMAIL_HR_IMPORT_APPLY_VALID_ROWS": "peut-être"},
            "ACADEMAIL_HR_IMPORT_APPLY_VALID_ROWS",
        ),
        ("[store]\nurl = 'mysql://x'\n", {}, "store.url"),
        ("[academie\n", {}, "TOML invalide"),
    ],
)
def test_errors_name_the_setting(tmp_path, toml, env, needle):
    config = tmp_path / "bad.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_settings(config, env)
    assert needle in caught.value.message


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInput, match="introuvable"):
        load_settings(tmp_path / "absent.toml")


def test_example_file_is_generated_and_parses_back(tmp_path):
    committed = (ROOT / "docs" / "academail.example.toml").read_text(encoding="utf-8")
    assert committed == render_example(), (
        "run: academail config example > docs/academail.example.toml"
    )
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and ("=" in line or line.startswith("# [")) else line
        for line in committed.splitlines()
    )
    path = tmp_path / "full.toml"
    path.write_text(uncommented, encoding="utf-8")
    assert load_settings(path) == load_settings()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@db:5432/mail", "postgresql://u:***@db:5432/mail"),
        (
            "postgresql://u@db/mail?password=pw&sslmode=require",
            "postgresql://u@db/mail?password=***&sslmode=require",
        ),
        ("postgresql://db/mail?sslmode=require", "postgresql://db/mail?sslmode=require"),
        ("https://gw.example/send?api_key=k&to=1", "https://gw.example/send?api_key=***&to=1"),
        (
            "sqlite:////srv/academail/academail.sqlite3",
            "sqlite:////srv/academail/academail.sqlite3",
        ),
    ],
)
def test_mask_url(url, shown):
    assert mask_url(url) == shown


def test_settings_for_display_masks_every_secret_by_name():
    s = load_settings(
        None,
        {
            "ACADEMAIL_NOTIFY_SMS_HTTP_TOKEN": "t0k3n",
            "ACADEMAIL_STORE_URL": "postgresql://u:pw@db/mail",
        },
    )
    shown = settings_for_display(s)
    assert shown["notify"]["sms_http_token"] == "(défini, masqué)"
    assert shown["store"]["url"] == "postgresql://u:***@db/mail"
    assert shown["auth"]["password_profile"] == "academie"
    assert shown["identity"]["password"]["time_cost"] == 2  # a section, not a secret
    assert shown["data_dir"] == "academail-data"
    assert "t0k3n" not in repr(shown) and ":pw@" not in repr(shown)
    assert is_secret_name("session_secret") and is_secret_name("smtp_password")
    assert not is_secret_name("sms_http_url")
