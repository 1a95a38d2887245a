"""The command line, as an administrator uses it, on both stores."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from pypdf import PdfReader
from typer.testing import CliRunner

from academail.cli import app
from tests.fixtures.hr import export, numen, row

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _logging_back_to_defaults():
    """The CLI points the logs at the runner's stderr, closed after each invocation."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def cli(tmp_path: Path, store_url: str):
    env = {
        "ACADEMAIL_DATA_DIR": str(tmp_path / "data"),
        "ACADEMAIL_STORE_URL": store_url,
        "ACADEMAIL_IDENTITY_TEMPORARY_PASSWORD_MEMORY_KIB": "8",
        "ACADEMAIL_IDENTITY_PASSWORD_MEMORY_KIB": "8",
        "COLUMNS": "200",
    }
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    assert invoke("init").exit_code == 0
    return invoke


def test_init_creates_private_keys_once(cli, tmp_path):
    keys = sorted((tmp_path / "data" / "keys").iterdir())
    assert {"numen_hmac.key", "numen_seal.key", "session.key", "tokens.key"} <= {
        k.name for k in keys
    }
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)  # every key file
    before = [k.read_bytes() for k in keys]
    result = cli("init")
    assert result.exit_code == 0 and "Clés créées" not in result.output
    assert [k.read_bytes() for k in keys] == before


def test_import_json_report_and_refusals_with_line_numbers(cli, tmp_path):
    csv = tmp_path / "rh.csv"
    csv.write_bytes(
        export(row(numen=numen(1)), row(numen=numen(2), date_naissance="31/02/1980", prenom="Paul"))
    )
    result = cli("staff", "import", str(csv), "--json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)  # logs go to stderr
    assert report["applied"] is False and report["counts"]["created"] == 0
    assert [(r["line"], r["who"]) for r in report["refused"]] == [(3, "Paul DUPONT")]
    assert "date_naissance" in report["refused"][0]["detail"]

    result = cli("staff", "import", str(csv), "--apply-valid-rows")
    assert result.exit_code == 0, result.output
    assert "jdupont" in result.output and "Import appliqué" in result.output


def test_import_of_a_missing_file(cli, tmp_path):
    result = cli("staff", "import", str(tmp_path / "absent.csv"))
    assert result.exit_code == 2
    assert "lecture impossible" in result.output


def test_account_commands(cli, tmp_path):
    csv = tmp_path / "rh.csv"
    csv.write_bytes(
        export(row(numen="20E0712345ABC", prenom="Marie-Thérèse", nom_usage="de La Fontaine"))
    )
    assert cli("staff", "import", str(csv)).exit_code == 0
    shown = cli("account", "show", " MDelaFontaine ")
    assert shown.exit_code == 0
    assert "marietherese.delafontaine@ac-amiens.fr" in shown.output
    assert "20E0712345ABC" not in shown.output  # support never sees the NUMEN
    refused = cli("account", "unlock", "mdelafontaine")
    assert refused.exit_code == 2 and "impossible de déverrouiller" in refused.output
    assert cli("account", "suspend", "mdelafontaine", "--reason", "appel").exit_code == 0
    assert "suspendu" in cli("account", "show", "mdelafontaine").output
    assert cli("account", "reinstate", "mdelafontaine").exit_code == 0
    unknown = cli("account", "lock", "personne")
    assert unknown.exit_code == 2 and "aucun compte" in unknown.output
    out = tmp_path / "lettre.pdf"
    assert cli("account", "reissue", "mdelafontaine", "--out", str(out)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "Thérèse" in PdfReader(out).pages[0].extract_text()


def test_letters_command(cli, tmp_path):
    csv = tmp_path / "rh.csv"
    csv.write_bytes(export(row(numen=numen(1)), row(numen=numen(2), prenom="Paul")))
    assert cli("staff", "import", str(csv)).exit_code == 0
    bad = cli("letters", "--departement", "75", "--out", str(tmp_path / "x.pdf"))
    assert bad.exit_code == 2 and "département inconnu" in bad.output
    bad = cli("letters", "--establishment", "0800001Z", "--out", str(tmp_path / "x.pdf"))
    assert bad.exit_code == 2 and "UAI" in bad.output
    out = tmp_path / "courriers.pdf"
    result = cli("letters", "--new", "--out", str(out))
    assert result.exit_code == 0 and "2 courrier(s)" in result.output
    assert len(PdfReader(out).pages) == 2
    again = cli("letters", "--new", "--out", str(tmp_path / "vide.pdf"))
    assert "Aucun courrier" in again.output and not (tmp_path / "vide.pdf").exists()


def test_config_example_is_the_committed_file(cli):
    result = cli("config", "example")
    assert result.output == (ROOT / "docs" / "academail.example.toml").read_text(encoding="utf-8")


def test_demo_is_repeatable(cli, tmp_path):
    first = cli("demo", "--agents", "40", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "Démonstration prête" in first.output
    assert (tmp_path / "data" / "demo" / "courriers-nouveaux.pdf").exists()
    second = cli("demo", "--agents", "40", "--no-serve")
    assert second.exit_code == 0 and "créés : 0" in second.output
    accounts = json.loads((tmp_path / "data" / "demo" / "comptes.json").read_text())
    assert stat.S_IMODE((tmp_path / "data" / "demo" / "comptes.json").stat().st_mode) == 0o600
    for login in (accounts["teacher"], accounts["director"], accounts["admin"]):
        assert login in second.output
    assert accounts["newcomer_password"] in second.output
    assert "https://127.0.0.1:8443/" in second.output


def test_commands_without_init_say_what_to_do(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app, ["account", "show", "x"], env={"ACADEMAIL_DATA_DIR": str(tmp_path / "none")}
    )
    assert result.exit_code == 2
    assert "academail init" in result.output


def test_python_dash_m():
    done = subprocess.run(
        [sys.executable, "-m", "academail", "--help"], capture_output=True, text=True, check=True
    )
    assert "staff" in done.stdout and "letters" in done.stdout


def _state_of(cli, login: str) -> str:
    shown = cli("account", "show", login)
    assert shown.exit_code == 0, shown.output
    return shown.output


def test_a_bad_output_path_fails_before_any_password_changes(cli, tmp_path):
    csv = tmp_path / "rh.csv"
    csv.write_bytes(export(row(numen=numen(1))))
    assert cli("staff", "import", str(csv)).exit_code == 0
    for bad in (tmp_path / "absent" / "courriers.pdf", tmp_path):
        result = cli("letters", "--new", "--out", str(bad))
        assert result.exit_code == 2, result.output
        assert "écriture impossible" in result.output
        result = cli("account", "reissue", "jdupont", "--out", str(bad))
        assert result.exit_code == 2 and "écriture impossible" in result.output
    shown = _state_of(cli, "jdupont")
    assert "créé (courrier à éditer)" in shown and "0 (dernier" in shown
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".part"] == []


def test_a_failed_commit_leaves_no_letters_file(cli, tmp_path, monkeypatch):
    from academail.letters.issue import LetterService

    csv = tmp_path / "rh.csv"
    csv.write_bytes(export(row(numen=numen(1))))
    assert cli("staff", "import", str(csv)).exit_code == 0
    out_dir = tmp_path / "courriers"
    out_dir.mkdir()

    def commit_fails(*_args, **_kwargs):
        raise sa.exc.OperationalError("UPDATE accounts …", {}, Exception("disk I/O error"))

    monkeypatch.setattr(LetterService, "_commit", commit_fails)
    result = cli("letters", "--new", "--out", str(out_dir / "lot.pdf"))
    assert result.exit_code == 1
    assert "erreur de base de données : OperationalError" in result.output
    assert list(out_dir.iterdir()) == []  # neither the letters nor a temporary file
    assert "0 (dernier" in _state_of(cli, "jdupont")
    monkeypatch.undo()

    result = cli("letters", "--new", "--out", str(out_dir / "lot.pdf"))
    assert result.exit_code == 0, result.output
    assert [p.name for p in out_dir.iterdir()] == ["lot.pdf"]
    assert stat.S_IMODE((out_dir / "lot.pdf").stat().st_mode) == 0o600


def test_database_errors_are_one_line_without_parameters(cli, tmp_path, monkeypatch):
    from academail.identity.accounts import AccountService

    def integrity(*_args, **_kwargs):
        raise sa.exc.IntegrityError(
            "UPDATE agents SET birth_date=?", {"birth_date": "1980-05-12"}, Exception("UNIQUE")
        )

    monkeypatch.setattr(AccountService, "show", integrity)
    result = cli("account", "show", "jdupont")
    assert result.exit_code == 1
    assert "erreur de base de données : IntegrityError" in result.output
    assert "1980" not in result.output and "Traceback" not in result.output


async def test_engines_hide_sql_parameters(platform):
    from academail.store.tables import departements

    def duplicate(conn) -> None:
        conn.execute(
            departements.insert(), {"code": "80", "name": "Jeanne DUPONT 12/05/1980", "dsden": ""}
        )

    with pytest.raises(sa.exc.IntegrityError) as caught:
        await platform.store.run(duplicate)
    assert "DUPONT" not in str(caught.value) and "1980" not in str(caught.value)


def test_init_makes_the_data_directory_private(cli, tmp_path, store_url, backend):
    data = tmp_path / "data"
    database = Path(sa.engine.make_url(store_url).database or "")

    def sqlite_files() -> list[Path]:
        return [p for p in database.parent.iterdir() if p.name.startswith(database.name)]

    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    if backend == "sqlite":
        assert sqlite_files() and all(
            stat.S_IMODE(p.stat().st_mode) == 0o600 for p in sqlite_files()
        )
    # A directory and a database left readable by an older version are tightened.
    data.chmod(0o755)
    if backend == "sqlite":
        for p in sqlite_files():
            p.chmod(0o644)
    assert cli("init").exit_code == 0
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    if backend == "sqlite":
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in sqlite_files())


def test_sqlite_wal_files_are_private(tmp_path):
    import asyncio

    from academail.store import open_store

    database = tmp_path / "base" / "a.sqlite3"

    async def work() -> list[tuple[str, int]]:
        store = open_store(f"sqlite:///{database}")
        try:
            await store.run(lambda conn: conn.exec_driver_sql("CREATE TABLE t (x INTEGER)"))
            await store.run(lambda conn: conn.exec_driver_sql("INSERT INTO t VALUES (1)"))
            return [
                (p.name, stat.S_IMODE(p.stat().st_mode)) for p in sorted(database.parent.iterdir())
            ]
        finally:
            await store.close()

    modes = asyncio.run(work())
    assert [name for name, _ in modes] == ["a.sqlite3", "a.sqlite3-shm", "a.sqlite3-wal"]
    assert {mode for _, mode in modes} == {0o600}


def test_config_show_masks_secrets(tmp_path):
    env = {
        "ACADEMAIL_DATA_DIR": str(tmp_path / "data"),
        "ACADEMAIL_STORE_URL": "postgresql://academail:s3cr3t@db:5432/mail?password=qs-pass",
        "ACADEMAIL_NOTIFY_SMS_DRIVER": "http",
        "ACADEMAIL_NOTIFY_SMS_HTTP_URL": "https://sms.example/send?token=url-token&x=1",
        "ACADEMAIL_NOTIFY_SMS_HTTP_TOKEN": "bearer-token-123",
    }
    result = CliRunner().invoke(app, ["config", "show"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for secret in ("s3cr3t", "qs-pass", "url-token", "bearer-token-123"):
        assert secret not in result.output
    shown = json.loads(result.output)
    assert shown["store"]["url"] == "postgresql://academail:***@db:5432/mail?password=***"
    assert shown["notify"]["sms_http_url"] == "https://sms.example/send?token=***&x=1"
    assert shown["notify"]["sms_http_token"] == "(défini, masqué)"
    assert shown["auth"]["password_profile"] == "academie"  # a policy, not a secret
