"""The command line, as an administrator uses it, on both stores."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from academail.cli import app
from tests.fixtures.hr import export, numen, row

ROOT = Path(__file__).resolve().parents[2]


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
    assert [k.name for k in keys] == [
        "numen_hmac.key",
        "numen_seal.key",
        "session.key",
        "tokens.key",
    ]
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
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
    report = json.loads(result.output)
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
    first = cli("demo", "--agents", "40")
    assert first.exit_code == 0, first.output
    assert "Démonstration prête" in first.output
    assert (tmp_path / "data" / "demo" / "courriers-nouveaux.pdf").exists()
    second = cli("demo", "--agents", "40")
    assert second.exit_code == 0 and "créés : 0" in second.output


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
