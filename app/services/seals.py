"""An office's seal (印章) image: a PNG an administrator uploads, kept content-addressed as
``<sha256>.png`` in the seals store (app/storage.py: SEAL_DIR, or the bucket) and named by
``Jurisdiction.seal_sha256``. A seal file is never deleted: every notice issued with it names it
in its frozen document (``seal_sha256``), and removing the seal from the office only stops new
notices from carrying it."""

from __future__ import annotations

import hashlib
import io
import re

from flask import current_app
from PIL import Image

from app.errors import Invalid
from app.storage import Store, area
from app.workflow import N_

MAX_BYTES = 1024 * 1024
MAX_SIDE = 2000
MIN_SIDE = 100  # pixels: smaller prints blurred at 42 mm
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEX = re.compile(r"^[0-9a-f]{64}$")


def seal_store() -> Store:
    return area("seals")


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
    seal_store().put_new(f"{sha256}.png", data)  # the same image (the same name) is kept once
    return sha256


def read_seal(sha256: str | None) -> bytes | None:
    """The seal image named by a document (None: no seal, or the file is not where it should be,
    which the caller's rendering then shows as the no-seal layout)."""
    if not sha256 or not _HEX.match(sha256):
        return None
    store = seal_store()
    try:
        data = store.get(f"{sha256}.png")
    except OSError as error:
        current_app.logger.error("seal %s is missing from %r: %s", sha256, store, error)
        return None
    if hashlib.sha256(data).hexdigest() != sha256:
        current_app.logger.error("seal %s no longer matches its file", sha256)
        return None
    return data
