"""An office's seal (印章) image: a PNG an administrator uploads, kept content-addressed as
``SEAL_DIR/<sha256>.png`` and named by ``Jurisdiction.seal_sha256``. A seal file is never
deleted: every notice issued with it names it in its frozen document (``seal_sha256``), and
removing the seal from the office only stops new notices from carrying it."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from flask import current_app
from PIL import Image

from app.errors import Invalid
from app.uploads import write_atomic
from app.workflow import N_

MAX_BYTES = 1024 * 1024
MAX_SIDE = 2000
MIN_SIDE = 100  # pixels: smaller prints blurred at 42 mm
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEX = re.compile(r"^[0-9a-f]{64}$")


def seal_dir() -> Path:
    directory = Path(current_app.config["SEAL_DIR"])
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def check_seal(data: bytes) -> tuple[int, int, bool]:
    """Refuse anything but a real PNG of at most 1 MB and 2000 × 2000 pixels; return its size
    and whether it has transparency (recommended: the seal is printed over the signature)."""
    if not data:
        raise Invalid(N_("Seal: choose a PNG file."))
    if len(data) > MAX_BYTES:
        raise Invalid(N_("Seal: the file is larger than 1 MB."))
    if not data.startswith(PNG_SIGNATURE):
        raise Invalid(N_("Seal: only a PNG image is accepted."))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise Invalid(N_("Seal: only a PNG image is accepted."))
            width, height = image.size
            if width > MAX_SIDE or height > MAX_SIDE:
                raise Invalid(N_("Seal: the image is larger than 2000 × 2000 pixels."))
            # A seal is round (or square): a strip of pixels would print as a bar over the text.
            if min(width, height) < MIN_SIDE or max(width, height) > 1.5 * min(width, height):
                raise Invalid(
                    N_("Seal: the image must be about as wide as it is high, at least 100 × 100 pixels.")
                )
            image.load()  # decodes the whole image: a truncated or forged file fails here
            transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    except Invalid:
        raise
    except Exception as error:  # any decoder failure on an uploaded file
        raise Invalid(N_("Seal: the file is not a readable PNG image.")) from error
    return width, height, transparent


def store_seal(data: bytes) -> str:
    """Check and keep a seal image; return its SHA-256 (the same image is kept once)."""
    check_seal(data)
    sha256 = hashlib.sha256(data).hexdigest()
    path = seal_dir() / f"{sha256}.png"
    if not path.exists():
        write_atomic(path, data)
    return sha256


def read_seal(sha256: str | None) -> bytes | None:
    """The seal image named by a document (None: no seal, or the file is not where it should be,
    which the caller's rendering then shows as the no-seal layout)."""
    if not sha256 or not _HEX.match(sha256):
        return None
    path = seal_dir() / f"{sha256}.png"
    try:
        data = path.read_bytes()
    except OSError:
        current_app.logger.error("seal %s is missing from %s", sha256, path.parent)
        return None
    if hashlib.sha256(data).hexdigest() != sha256:
        current_app.logger.error("seal %s no longer matches its file", sha256)
        return None
    return data
