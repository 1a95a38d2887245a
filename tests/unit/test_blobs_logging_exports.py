"""Blob store durability shape, log redaction, and each package's public surface."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import stat

import pytest

import academail
from academail.blobs import FileBlobStore, blob_key
from academail.core.errors import NotFound
from academail.core.keys import ensure_keys, load_keys
from academail.observability import configure_logging, get_logger


async def test_blobs_are_content_addressed_and_idempotent(tmp_path):
    store = FileBlobStore(tmp_path / "blobs")
    key = await store.put(b"Bonjour \xc3\xa0 tous")
    assert key == blob_key(b"Bonjour \xc3\xa0 tous")
    assert await store.put(b"Bonjour \xc3\xa0 tous") == key
    assert await store.get(key) == b"Bonjour \xc3\xa0 tous"
    path = tmp_path / "blobs" / key[:2] / key[2:4] / key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    await store.delete(key)
    await store.delete(key)
    assert not await store.exists(key)
    with pytest.raises(NotFound):
        await store.get(key)


async def test_new_blob_directories_are_fsynced_in_their_parents(tmp_path, monkeypatch):
    """A blob in a directory created for it is durable only once the new directory's
    own entries (``ab`` in the root, ``cd`` in ``ab``) are flushed as well."""
    synced: set[int] = set()
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.add(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    root = tmp_path / "blobs"
    key = await FileBlobStore(root).put(b"Rapport du conseil")
    path = root / key[:2] / key[2:4] / key
    for directory in (path.parent, path.parent.parent, root):
        assert directory.stat().st_ino in synced, directory


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a" * 63, "Z" * 64, ""])
async def test_blob_keys_cannot_escape(tmp_path, bad):
    with pytest.raises(NotFound):
        await FileBlobStore(tmp_path).get(bad)


def test_keys_are_private_and_kept(tmp_path):
    assert ensure_keys(tmp_path) == ["numen_hmac", "numen_seal", "session", "tokens"]
    assert ensure_keys(tmp_path) == []
    keys = load_keys(tmp_path)
    assert len(keys.numen_hmac) == 32 and keys.numen_hmac != keys.numen_seal
    assert "redacted" in repr(keys) and keys.numen_hmac.hex() not in repr(keys)
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    os.unlink(tmp_path / "keys" / "session.key")
    with pytest.raises(FileNotFoundError, match="academail init"):
        load_keys(tmp_path)


def test_logs_never_carry_secrets(capsys):
    configure_logging("INFO", json=True)
    get_logger("test").info(
        "letter",
        login="jdupont",
        password="Secret123456!",
        numen="20E0712345ABC",
        temporary_password="abcd",
        birth_date="1980-01-01",
        reset_token="t0k3n",
    )
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["login"] == "jdupont"
    for name in ("password", "numen", "temporary_password", "birth_date", "reset_token"):
        assert line[name] == "[supprimé]"
    assert "Secret123456!" not in json.dumps(line) and "20E0712345ABC" not in json.dumps(line)


def _modules():
    for info in pkgutil.walk_packages(academail.__path__, "academail."):
        if ".migrations" in info.name:
            continue
        yield info.name


@pytest.mark.parametrize("name", list(_modules()))
def test_every_module_declares_its_public_surface(name):
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.__all__ names missing {exported}"


def test_package_apis():
    import academail.identity as identity
    import academail.letters as letters
    import academail.store as store

    assert {"StaffImporter", "AccountService", "AccountState", "Event", "naming", "numen"} <= set(
        identity.__all__
    )
    assert {"LetterService", "LetterSelection", "render_letters"} <= set(letters.__all__)
    assert {"Store", "open_store", "upgrade", "directory", "audit"} <= set(store.__all__)
