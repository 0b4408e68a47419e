"""Where the platform's files live: local folders (the default) or an S3-compatible bucket, so
that several web processes and workers on different hosts share them.

Four areas, each a flat set of files keyed by the names used since the start:

* ``uploads``: reporters' originals (evidence) and their cleaned staff copies (app/uploads.py);
* ``notices``: issued notice PDFs, ``<sha256>.pdf``, first writer wins (reports/notice_files.py);
* ``reports``: generated reports, ``<kind>-<period>-<id>-<sha>.<fmt>`` (reports/archive.py);
* ``seals``: the offices' seal images, ``<sha256>.png`` (app/services/seals.py).

Without ``STORAGE_URL`` each area is the local folder of its setting (UPLOAD_DIR, NOTICE_DIR,
REPORT_DIR, SEAL_DIR: by default under the var dir), written exactly as before: a temporary file
(mode 0o600) fsynced and renamed over the final name. With ``STORAGE_URL=s3://bucket/prefix`` an
area is ``prefix/<area>/`` in that bucket, through boto3 (``S3_ENDPOINT_URL`` for MinIO, Ceph,
a cloud's S3 service; keys from ``S3_ACCESS_KEY_ID``/``S3_SECRET_ACCESS_KEY`` or boto3's own
chain: AWS_* variables, instance roles). Objects are written private (no ACL is ever set, no
public URL is ever made): every download goes through the platform's access checks. A PUT is
whole or nothing on S3; the first-writer-wins write is a conditional PUT (``If-None-Match: *``).

Listing walks an area page by page (``pages``: at most ``STORAGE_PAGE_SIZE`` names at a time,
1000 by default, S3's own page), so that a reaper of orphans never holds millions of names:
``list_objects_v2`` with continuation tokens on S3, ``os.scandir`` iteration on a local folder.

Errors: a missing file raises ``FileNotFoundError``; any other failure of the store an
``OSError`` (``StorageError`` for S3), which the callers already handle as a disk failure.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

AREAS = {"uploads": "UPLOAD_DIR", "notices": "NOTICE_DIR", "reports": "REPORT_DIR", "seals": "SEAL_DIR"}
TEMP_PREFIX = ".upload-"  # a local file being written (never a final name; the reaper's)
_CHUNK = 1024 * 1024
PAGE_SIZE = 1000  # names per page of a listing (S3's largest page)
_BAD_KEY = re.compile(r"[/\\\x00]")


class StorageError(OSError):
    """The object store failed (unreachable, refused, misconfigured)."""


@dataclass(frozen=True)
class Entry:
    name: str
    modified: float  # POSIX timestamp of the last write


class Store(Protocol):
    """One area's files, by name."""

    def put(self, key: str, data: bytes) -> None:
        """Write the file whole or not at all, over any earlier one."""

    def put_new(self, key: str, data: bytes) -> bool:
        """Write the file only if none is there (atomically); True if this call stored it."""

    def get(self, key: str) -> bytes:
        """The file's bytes (FileNotFoundError if missing)."""

    def open(self, key: str) -> BinaryIO:
        """A stream of the file's bytes, read in chunks (FileNotFoundError if missing)."""

    def sendable(self, key: str) -> Path | BinaryIO:
        """What ``flask.send_file`` serves best: the local path, else a stream."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the file; a missing one is fine."""

    def pages(self, prefix: str = "") -> Iterator[list[Entry]]:
        """The area's files whose names start with ``prefix``, a page (at most ``page_size``
        entries, never empty) at a time, without ever holding the whole listing."""

    def list(self) -> Iterator[Entry]:
        """Every file of the area, one page in memory at a time."""


def _page_size(value) -> int:
    try:
        size = int(value or PAGE_SIZE)
    except (TypeError, ValueError):
        return PAGE_SIZE
    return max(1, min(size, PAGE_SIZE))


def check_key(key: object) -> str:
    """A plain file name: no folder, no parent, no separator (a key from a row, never a path)."""
    if not isinstance(key, str) or not key or key in (".", "..") or _BAD_KEY.search(key):
        raise FileNotFoundError(f"not a file name: {key!r}")
    return key


# --- local folders -----------------------------------------------------------------------------


class LocalStore:
    """A folder on this host (created mode 0o700 when first written)."""

    def __init__(self, directory: Path | str, page_size: int = PAGE_SIZE) -> None:
        self.directory = Path(directory)
        self.page_size = _page_size(page_size)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.directory)!r})"

    def _path(self, key: str) -> Path:
        return self.directory / check_key(key)

    def _existing(self, key: str) -> Path:
        """The path of an existing regular file in the folder itself (a symlink out of it is
        missing, as is anything but a file)."""
        path = self._path(key)
        if not path.is_file() or path.resolve().parent != self.directory.resolve():
            raise FileNotFoundError(str(path))
        return path

    def _temp(self, data: bytes) -> str:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return temp

    def _sync(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        temp = self._temp(data)
        try:
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        self._sync()

    def put_new(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        temp = self._temp(data)
        try:
            os.link(temp, path)  # fails if the name exists: the first link wins
            stored = True
        except FileExistsError:
            stored = False
        except OSError:  # a filesystem without hard links: rename, as before
            stored = not path.exists()
            if stored:
                os.replace(temp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        if stored:
            self._sync()
        return stored

    def get(self, key: str) -> bytes:
        return self._existing(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        return self._existing(key).open("rb")

    def sendable(self, key: str) -> Path:
        return self._existing(key)

    def exists(self, key: str) -> bool:
        try:
            self._existing(key)
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def pages(self, prefix: str = "") -> Iterator[list[Entry]]:
        if not self.directory.is_dir():
            return
        page: list[Entry] = []
        with os.scandir(self.directory) as entries:  # the folder is read as it is walked
            for entry in entries:
                if not entry.name.startswith(prefix):
                    continue
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    modified = entry.stat(follow_symlinks=False).st_mtime
                except FileNotFoundError:  # removed since the folder was read
                    continue
                page.append(Entry(entry.name, modified))
                if len(page) >= self.page_size:
                    yield page
                    page = []
        if page:
            yield page

    def list(self) -> Iterator[Entry]:
        for page in self.pages():
            yield from page


# --- S3-compatible object storage --------------------------------------------------------------


def _code(error) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _status(error) -> int:
    response = getattr(error, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


_LOST_RACE = ("PreconditionFailed", "ConditionalRequestConflict")


def _missing(error) -> bool:
    return _code(error) in ("NoSuchKey", "404", "NotFound") or _status(error) == 404


class S3Store:
    """``prefix/`` in an S3 bucket (objects private; no ACL, no public URL)."""

    def __init__(self, client, bucket: str, prefix: str, page_size: int = PAGE_SIZE) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")
        self.page_size = _page_size(page_size)

    def __repr__(self) -> str:
        return f"S3Store('s3://{self.bucket}/{self.prefix}')"

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{check_key(key)}" if self.prefix else check_key(key)

    def _call(self, method: str, key: str, **params):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, Key=self._key(key), **params)
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(f"s3://{self.bucket}/{self._key(key)}") from error
            raise StorageError(f"{method} s3://{self.bucket}/{self._key(key)}: {error}") from error
        except BotoCoreError as error:  # unreachable endpoint, timeouts, bad credentials setup
            raise StorageError(f"{method} s3://{self.bucket}/{self._key(key)}: {error}") from error

    def put(self, key: str, data: bytes) -> None:
        self._call("put_object", key, Body=bytes(data))

    def put_new(self, key: str, data: bytes) -> bool:
        try:
            self._call("put_object", key, Body=bytes(data), IfNoneMatch="*")
        except StorageError as error:
            cause = error.__cause__
            if _code(cause) in _LOST_RACE or _status(cause) in (409, 412):
                return False  # another writer was first
            if _status(cause) != 501:
                raise
            # A store without conditional writes: the keys are content hashes, so two writers
            # write the same bytes and the second PUT changes nothing.
            if self.exists(key):
                return False
            self.put(key, data)
        return True

    def get(self, key: str) -> bytes:
        body = self.open(key)
        try:
            return body.read()
        finally:
            body.close()

    def open(self, key: str) -> BinaryIO:
        response = self._call("get_object", key)
        return _Stream(response["Body"], response.get("ContentLength"))

    def sendable(self, key: str) -> BinaryIO:
        return self.open(key)

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", key)
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        self._call("delete_object", key)

    def pages(self, prefix: str = "") -> Iterator[list[Entry]]:
        """One ``list_objects_v2`` request per page (continuation tokens, through boto3's
        paginator); the area's "folder" only (``Delimiter``: nothing under a deeper prefix)."""
        from botocore.exceptions import BotoCoreError, ClientError

        start = f"{self.prefix}/" if self.prefix else ""
        if prefix and _BAD_KEY.search(prefix):
            return
        listing = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket,
            Prefix=start + prefix,
            Delimiter="/",
            PaginationConfig={"PageSize": self.page_size},
        )
        try:
            for response in listing:
                found = ((item["Key"][len(start) :], item) for item in response.get("Contents", []))
                page = [
                    Entry(name, item["LastModified"].timestamp())
                    for name, item in found
                    if name and "/" not in name
                ]
                if page:
                    yield page
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"list s3://{self.bucket}/{start}{prefix}: {error}") from error

    def list(self) -> Iterator[Entry]:
        for page in self.pages():
            yield from page


class _Stream(io.RawIOBase):
    """An object's body as a read-only binary stream (what ``send_file`` and ``shutil`` take),
    read from the network chunk by chunk, never whole. ``size`` is the object's length in bytes
    (the response's Content-Length), None if the store did not say."""

    def __init__(self, body, size: int | None = None) -> None:
        self._body = body
        self.size = int(size) if size is not None else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._body.read(min(len(buffer), _CHUNK))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._body.read() if size is None or size < 0 else self._body.read(size)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._body.close()
        super().close()


# --- the configured store ----------------------------------------------------------------------

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def parse_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"STORAGE_URL must look like s3://bucket/prefix, not {url!r}")
    return parts.netloc, parts.path.strip("/")


def s3_client(config) -> object:
    """One boto3 client per process and settings (clients are thread-safe; a forked process,
    such as an RQ work horse, makes its own rather than share the parent's connections)."""
    import boto3
    from botocore.config import Config

    endpoint = config.get("S3_ENDPOINT_URL") or None
    key = (
        os.getpid(),
        endpoint,
        config.get("S3_REGION") or None,
        config.get("S3_ACCESS_KEY_ID") or None,
        config.get("S3_SECRET_ACCESS_KEY") or None,
        config.get("S3_ADDRESSING_STYLE") or ("path" if endpoint else "auto"),
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            _, endpoint, region, access_key, secret_key, style = key
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint,
                region_name=region,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": style},
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=60,
                ),
            )
            _clients[key] = client
    return client


def store_for(config, area_name: str) -> Store:
    """The store of one area under these settings (a Flask config or any mapping)."""
    if area_name not in AREAS:
        raise KeyError(area_name)
    url = config.get("STORAGE_URL") or ""
    page_size = _page_size(config.get("STORAGE_PAGE_SIZE"))
    if not url:
        return LocalStore(config[AREAS[area_name]], page_size)
    bucket, prefix = parse_url(url)
    return S3Store(s3_client(config), bucket, f"{prefix}/{area_name}" if prefix else area_name, page_size)


def area(area_name: str) -> Store:
    """The store of one area for the current app."""
    from flask import current_app

    return store_for(current_app.config, area_name)


def send_file(file: Path | BinaryIO, **options):
    """``flask.send_file`` for what ``sendable`` gives, with a Content-Length for a stream from
    the object store too (its size as the store told it), as for a local file: browsers show
    the progress and proxies need not buffer the whole file to learn its length."""
    import flask

    response = flask.send_file(file, **options)
    size = getattr(file, "size", None)
    if response.status_code == 200 and response.content_length is None and isinstance(size, int):
        response.content_length = size
    return response


def as_store(where: Store | Path | str) -> Store:
    """A store, or a local folder given as a path (tools and tests that pass a directory)."""
    return LocalStore(where) if isinstance(where, (str, os.PathLike)) else where
