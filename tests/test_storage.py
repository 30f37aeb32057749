"""The storage of files (`feedback.storage`), through its interface, against the local folder. The S3-compatible
storage has no test here: it needs an object store."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from feedback.storage import LocalStorage, new_key, storage


class BrokenStream(io.BytesIO):
    """A file whose reading fails halfway, as an upload cut off."""

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() > 0:
            raise OSError("connexion perdue")
        return super().read(4)


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_a_file_put_under_a_key_is_read_back_and_deleted(tmp_path):
    store = LocalStorage(tmp_path / "uploads")
    key = new_key()

    store.put(key, io.BytesIO(b"commune;surface\nGien;12\n"), "text/csv")

    with store.open(key) as handle:
        assert handle.read() == b"commune;surface\nGien;12\n"
    assert files_in(tmp_path) == [tmp_path / "uploads" / key]
    assert store.url(key, download_name="attachment") is None  # the application serves the file itself
    store.delete(key)
    store.delete(key)  # deleting twice is harmless
    assert files_in(tmp_path) == []
    with pytest.raises(FileNotFoundError):
        store.open(key)


def test_keys_are_random_and_never_a_name():
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(re.fullmatch(r"([0-9a-f]{2})/([0-9a-f]{2})/\1\2[0-9a-f]{28}", key) for key in keys)


def test_a_file_cut_off_while_written_leaves_nothing_under_its_key(tmp_path):
    store = LocalStorage(tmp_path / "uploads")
    key = new_key()
    store.put(key, io.BytesIO(b"version 1"), "application/pdf")

    with pytest.raises(OSError, match="connexion perdue"):
        store.put(key, BrokenStream(b"version 2, plus longue"), "application/pdf")

    assert files_in(tmp_path) == [tmp_path / "uploads" / key]  # no half-written temporary file either
    with store.open(key) as handle:
        assert handle.read() == b"version 1"


@pytest.mark.parametrize("key", ["../evasion", "ab/../../evasion", "/etc/passwd", "ab/cd/../../..", ""])
def test_a_key_cannot_lead_out_of_the_folder(tmp_path, key):
    store = LocalStorage(tmp_path / "uploads")
    (tmp_path / "evasion").write_bytes(b"hors du dossier")

    with pytest.raises(ValueError):
        store.put(key, io.BytesIO(b"x"), "text/plain")
    with pytest.raises(ValueError):
        store.open(key)
    with pytest.raises(ValueError):
        store.delete(key)
    assert (tmp_path / "evasion").read_bytes() == b"hors du dossier"


def test_the_application_keeps_files_in_its_instance_folder_unless_told_otherwise(app, tmp_path, monkeypatch):
    with app.app_context():
        configured = storage()
        assert isinstance(configured, LocalStorage)
        assert configured.folder == Path(app.instance_path) / "uploads"

        monkeypatch.setitem(app.config, "FEEDBACK_UPLOAD_FOLDER", str(tmp_path / "ailleurs"))
        key = new_key()
        storage().put(key, io.BytesIO(b"%PDF-1.4"), "application/pdf")
    assert files_in(tmp_path) == [tmp_path / "ailleurs" / key]
