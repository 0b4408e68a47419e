"""The issued PDF of a supervision notice: rendered once from its frozen document (never from
live data), kept as ``<sha256>.pdf`` in the notices store (app/storage.py: NOTICE_DIR, or the
bucket's notices/ shared by every host) and served as issued.

The first render wins: ``Notice.pdf_sha256`` is set by an UPDATE … WHERE pdf_sha256 IS NULL,
so two renders at once (the job and a first download, on one host or two) are harmless: the
second keeps the file and the hash of the first; the file itself is written only if none is
there (a hard link locally, a conditional PUT on S3), so a stored file is never overwritten.
A stored file that is missing or whose bytes no longer hash to ``pdf_sha256`` is never replaced
by a new render: :class:`NoticeFileError` is raised and the caller shows an error, never a
different document.
"""

from __future__ import annotations

import hashlib
import logging
import re

from sqlalchemy import String, cast, or_, select, update

from app.services import notice_documents, seals
from app.storage import Store, area
from models import Notice
from reports.archive import page_count

log = logging.getLogger(__name__)
_HEX = re.compile(r"^[0-9a-f]{64}$")


class NoticeFileError(RuntimeError):
    """The issued PDF of a notice cannot be served as issued (missing or altered)."""


def notice_store() -> Store:
    return area("notices")


def pdf_key(sha256: str) -> str:
    """The stored file's name: its SHA-256 (anything else is refused, never looked up)."""
    if not _HEX.match(sha256 or ""):
        raise NoticeFileError(f"not a SHA-256: {sha256!r}")
    return f"{sha256}.pdf"


def freeze_document(session, notice: Notice) -> dict:
    """The notice's document; one issued before documents were frozen gets its document built
    from the data as it stands now, stored then (first writer wins) and never rebuilt."""
    if notice.document is not None:
        return notice.document
    document = notice_documents.document_of_notice(session, notice)
    session.execute(
        update(Notice)
        .where(
            Notice.id == notice.id, or_(Notice.document.is_(None), cast(Notice.document, String) == "null")
        )
        .values(document=document)
    )
    session.refresh(notice, ["document"])
    return notice.document


def render(document: dict) -> bytes:
    """The PDF of a document, with the seal it was issued with (if the office had one)."""
    from reports.notice import render_notice_pdf

    seal = seals.read_seal(document.get("seal_sha256"))
    return render_notice_pdf(document, seal_png=seal)


def ensure_pdf(session, notice_id: int) -> tuple[str, int | None]:
    """Render the notice's PDF once (if it has none yet) and return its SHA-256 and pages."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NoticeFileError(f"notice {notice_id} not found")
    if notice.pdf_sha256 is not None:
        return notice.pdf_sha256, notice.pdf_pages
    document = freeze_document(session, notice)
    pdf = render(document)
    sha256 = hashlib.sha256(pdf).hexdigest()
    try:
        notice_store().put_new(pdf_key(sha256), pdf)  # first writer wins; the same bytes anyway
    except OSError as error:  # not writable, the disk is full, the store unreachable: nothing stored
        log.error("notice %s (%s): its PDF cannot be stored: %s", notice.id, notice.number, error)
        raise NoticeFileError("not stored") from error
    session.execute(
        update(Notice)
        .where(Notice.id == notice.id, Notice.pdf_sha256.is_(None))
        .values(pdf_sha256=sha256, pdf_pages=page_count(pdf))
    )
    stored, pages = session.execute(
        select(Notice.pdf_sha256, Notice.pdf_pages).where(Notice.id == notice.id)
    ).one()
    session.expire(notice, ["pdf_sha256", "pdf_pages"])
    return stored, pages


def issued_pdf(session, notice: Notice) -> bytes:
    """The bytes of the notice as issued, checked against its SHA-256. Rendered here only when
    it never was (no queue, or the job has not run yet); a missing or altered file raises
    :class:`NoticeFileError` (logged), never a new rendering."""
    sha256 = notice.pdf_sha256
    if sha256 is None:
        sha256, _ = ensure_pdf(session, notice.id)
    try:
        data = notice_store().get(pdf_key(sha256))
    except OSError as error:
        log.error("notice %s (%s): its issued PDF %s is missing: %s", notice.id, notice.number, sha256, error)
        raise NoticeFileError("missing") from error
    if hashlib.sha256(data).hexdigest() != sha256:
        log.error("notice %s (%s): its stored PDF no longer matches %s", notice.id, notice.number, sha256)
        raise NoticeFileError("altered")
    return data
