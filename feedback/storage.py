"""Where files live: the files of messages are kept outside the database, behind this small interface.

- `LocalStorage` (the default): a folder, `FEEDBACK_UPLOAD_FOLDER` (`instance/uploads`). Keys are random and
  made here, never a person's file name; a file is written to a temporary name and then renamed, so that a
  crash never leaves half a file under a key.
- `S3Storage`: an S3-compatible object store (`FEEDBACK_STORAGE_URL=s3://bucket/prefix`, with the usual
  `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, for a store other than AWS, `FEEDBACK_S3_ENDPOINT_URL`);
  needs the `s3` extra (boto3). Files are handed out by short-lived signed URLs, after the application's own
  permission check.

Nothing else in the code touches the disk for files; `storage()` gives the configured one.

A request's body is limited to `MAX_CONTENT_LENGTH` (a text form's size); the views marked `receives_files` take
the files of one message on top of it (`widen_body_limit_for_files`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar
from urllib.parse import urlsplit

from flask import current_app, request

PRESIGNED_SECONDS = 300


class Storage(Protocol):
    def put(self, key: str, stream: BinaryIO, content_type: str) -> None: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def url(self, key: str, *, download_name: str) -> str | None:
        """A URL that serves the file itself (signed, short-lived), or None: the application serves it."""
        ...


def new_key() -> str:
    """A fresh key: random, in two levels of folders so that no folder holds too many files."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token[2:4]}/{token}"


class LocalStorage:
    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, key: str) -> Path:
        path = (self.folder / key).resolve()
        if self.folder.resolve() not in path.parents:
            raise ValueError(f"not a key of this storage: {key!r}")
        return path

    def put(self, key: str, stream: BinaryIO, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                shutil.copyfileobj(stream, handle)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str, *, download_name: str) -> str | None:
        return None


class S3Storage:
    def __init__(self, url: str, endpoint_url: str | None = None):
        import boto3  # the `s3` extra: only deployments that keep their files in an object store need it

        parts = urlsplit(url)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None)

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, stream: BinaryIO, content_type: str) -> None:
        self.client.upload_fileobj(stream, self.bucket, self._name(key), ExtraArgs={"ContentType": content_type})

    def open(self, key: str) -> BinaryIO:
        return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def url(self, key: str, *, download_name: str) -> str | None:
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._name(key),
                "ResponseContentDisposition": download_name,
            },
            ExpiresIn=PRESIGNED_SECONDS,
        )


def storage() -> Storage:
    """The configured storage of the current application."""
    config = current_app.config
    url = config.get("FEEDBACK_STORAGE_URL") or ""
    if url.startswith("s3://"):
        return S3Storage(url, config.get("FEEDBACK_S3_ENDPOINT_URL"))
    return LocalStorage(Path(config["FEEDBACK_UPLOAD_FOLDER"]))


# Receiving ---------------------------------------------------------------------------------------------------------

View = TypeVar("View")


def receives_files(view: View) -> View:
    """Marks a view whose form carries files: its request body may hold the files of one message."""
    view.receives_files = True  # type: ignore[attr-defined]
    return view


def widen_body_limit_for_files() -> None:
    """Before each request, and before anything reads the body (the CSRF check reads the form): a view that
    receives files accepts `FEEDBACK_UPLOAD_MAX_FILES` files of `FEEDBACK_UPLOAD_MAX_BYTES` beside its form;
    every other keeps `MAX_CONTENT_LENGTH`, so that nobody sends a hundred megabytes to a sign-in form. Only a
    multipart body, whose text fields werkzeug limits one by one (`MAX_FORM_MEMORY_SIZE`): an urlencoded body
    is read in memory whole."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "receives_files", False) and request.mimetype == "multipart/form-data":
        config = current_app.config
        files = config["FEEDBACK_UPLOAD_MAX_FILES"] * config["FEEDBACK_UPLOAD_MAX_BYTES"]
        request.max_content_length = files + config["MAX_CONTENT_LENGTH"]
