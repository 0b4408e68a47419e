"""Reporters' files on the staff side (issue 13, points 3 and 8): staff only ever open a copy
without hidden data; the original is kept, hashed, opened only by those entitled to the
identity and every opening recorded; the filing is saved and the receipt shown before the
files are cleaned, in a job that nothing can lose; no file is left that no row refers to."""

from __future__ import annotations

import hashlib
import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from app import clock, scrub
from app.services import attachments, reporting, sweep
from app.workflow import Status
from models import AuditRecord, Case, IdentityAccess
from tests import metadata_samples as s
from tests.conftest import at, login
from tests.factories import case_in, is_stored, store_bytes, stored_bytes, stored_names
from tests.integration.test_reporter_side import file_through_page, track

NOW = at("2026-09-30 10:00")
USERS = ("clerk", "dispatcher", "handler", "handler2", "supervisor", "supervisor2", "leader", "admin")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def fake_queue(app, monkeypatch):
    """A fakeredis queue behind app.queue, with enqueuing after commit switched on."""
    import fakeredis
    from rq import Queue

    from app import queue as app_queue

    connection = fakeredis.FakeStrictRedis()
    queue = Queue("default", connection=connection)
    monkeypatch.setattr(app_queue, "default_queue", lambda: queue)
    monkeypatch.setitem(app.config, "ENQUEUE_AFTER_COMMIT", True)
    return queue, connection


def run_worker(queue, connection) -> None:
    from rq import SimpleWorker

    SimpleWorker([queue], connection=connection).work(burst=True)


def upload_dir(app) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def files_on_disk(app) -> set[str]:
    directory = upload_dir(app)
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def staff_page(client, case) -> str:
    return client.get(f"/cases/show/{case.id}").get_data(as_text=True)


def photo(colour="red", size=(64, 48)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, "PNG", exif=s.canary_exif())
    return output.getvalue()


# --- point 3: what staff download has no hidden data ----------------------------------------------


def test_staff_download_copies_without_the_canaries_while_the_originals_keep_them(app, session, client, cats):
    files = {"举报材料.docx": s.docx(), "营业执照.pdf": s.pdf(), "现场视频.mp4": s.ffmpeg_file("mp4")}
    files["现场.png"] = s.png()
    number, _, _ = file_through_page(
        client, cats, case_type="report", category_id=str(cats["INT01"].id), reporter_name=s.AUTHOR,
        reporter_phone="13912345678", confidential="y", files=list(files.items()),
    )  # fmt: skip
    case = session.query(Case).filter_by(number=number).one()
    assert {a.clean_state for a in case.attachments} == {"clean"}
    login(client, "clerk")  # the intake clerk sees the new case, never who filed it
    readers = {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": lambda d: (
            s.exiftool(d) + s.unzipped_text(d) + s.embedded_exif(d)
        ),
        "application/pdf": lambda d: (
            s.poppler_reading(d) + s.exiftool(d) + s.pdf_raw_text(d) + s.pdf_images_exif(d)
        ),
        "video/mp4": lambda d: s.ffprobe_tags(d) + s.exiftool(d),
        "image/png": lambda d: s.exiftool(d) + d.decode("latin-1"),
    }
    for attachment in case.attachments:
        read = readers[attachment.content_type]
        original = stored_bytes(app, attachment.stored_name)
        assert original == files[attachment.original_name]  # kept untouched, as evidence
        assert hashlib.sha256(original).hexdigest() == attachment.sha256
        assert s.canaries_in(read(original)), attachment.original_name
        download = client.get(f"/cases/act/{case.id}/file/{attachment.id}")
        assert download.status_code == 200, attachment.original_name
        assert download.headers["Cache-Control"] == "private, no-store"
        assert s.canaries_in(read(download.data)) == [], attachment.original_name
    assert s.BODY in s.unzipped_text(client.get(f"/cases/act/{case.id}/file/{case.attachments[0].id}").data)


def test_what_an_attacker_hid_in_pictures_keys_and_video_data_is_not_in_the_staff_download(
    app, session, client, cats
):
    """The attacker review's files, filed through the public page: a PDF showing a photo with
    EXIF as [/FlateDecode /DCTDecode], a PDF with a /ReporterNote in its catalog and a JPEG 2000
    picture with XMP, a video with SEI user data (a name and a phone number); a Word document
    with an EMF drawing naming C:\\Users\\张建国 is refused and never shown."""
    files = {
        "照片.pdf": s.pdf_with_picture(s.exif_jpeg(), ["/FlateDecode", "/DCTDecode"]),
        "扫描件.pdf": s.pdf_with_private_keys(),
        "图片2000.pdf": s.pdf_with_picture(s.jpeg_2000(), ["/JPXDecode"]),
        "现场视频.mp4": s.h264_with_user_data(),
        "图纸.docx": s.docx_with_drawing("emf"),
    }
    number, _, _ = file_through_page(client, cats, anonymous="y", files=list(files.items()))
    case = session.query(Case).filter_by(number=number).one()

    def hidden(data: bytes) -> list[str]:  # exiftool, pdfimages + exiftool, grep of the raw bytes
        text = s.exiftool(data) + data.decode("latin-1") + data.decode("utf-8", "replace")
        if data.startswith(b"%PDF"):
            text += s.pdf_images_exif(data) + s.pdf_strings(data)
        if data.startswith(b"PK"):
            text += s.unzipped_text(data)
        return [canary for canary in (*s.CANARIES, s.PHONE_TAG, "13812345678") if canary in text]

    login(client, "clerk")
    for attachment in case.attachments:
        assert hidden(files[attachment.original_name]), attachment.original_name
        download = client.get(f"/cases/act/{case.id}/file/{attachment.id}")
        if attachment.original_name == "图纸.docx":
            assert download.status_code == 302 and s.AUTHOR.encode("utf-16-le") not in download.data
        else:
            assert download.status_code == 200, attachment.original_name
            assert hidden(download.data) == [], attachment.original_name
    (refused,) = [a for a in case.attachments if a.clean_state == "refused"]
    assert refused.original_name == "图纸.docx" and refused.staff_name is None
    page = staff_page(client, case)
    with app.test_request_context():
        from flask_babel import gettext

        message, params = attachments.refusal(refused)
        assert message == scrub.DRAWING and gettext(message, **params) in page  # why, and what to do


def test_the_original_opens_only_for_those_entitled_to_the_identity_and_each_opening_is_recorded(
    app, session, client, actors, cats, depts
):
    from app.services import protection

    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, lead="X102")
    reporting.attach_files(case, [("合同.docx", s.docx())], now=NOW, reporter=case.reporters[0])
    session.commit()
    attachment = case.attachments[0]
    original = stored_bytes(app, attachment.stored_name)
    entitled = {u for u in USERS if protection.can_see_identity(case, actors[u])}
    assert entitled and set(USERS) - entitled  # the rule decides; both kinds are tried
    for username in USERS:
        login(client, username)
        before = session.query(IdentityAccess).filter_by(case_id=case.id).count()
        response = client.post(f"/cases/act/{case.id}/original/{attachment.id}", data={})
        session.expire_all()
        after = session.query(IdentityAccess).filter_by(case_id=case.id, purpose="original_file").count()
        if username in entitled:
            assert response.status_code == 200 and response.data == original, username
            assert response.headers["Cache-Control"] == "private, no-store"
            assert after == before + 1, username
            record = (
                session.query(AuditRecord)
                .filter_by(kind="original_file_view")
                .order_by(AuditRecord.id.desc())
            )
            assert record.first().details["sha256"] == attachment.sha256
        else:
            assert response.status_code in (302, 403, 404), username
            assert response.data != original and s.AUTHOR.encode() not in response.data, username
            assert session.query(IdentityAccess).filter_by(case_id=case.id).count() == before, username
    login(client, sorted(entitled)[0])
    assert client.get(f"/cases/act/{case.id}/original/{attachment.id}").status_code == 405  # POST only


def test_an_original_that_was_altered_on_disk_is_not_served(app, session, client, actors, cats, depts):
    from app.services import protection

    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, lead="X102")
    reporting.attach_files(case, [("合同.pdf", s.pdf())], now=NOW, reporter=case.reporters[0])
    session.commit()
    attachment = case.attachments[0]
    store_bytes(app, attachment.stored_name, b"%PDF-1.7 forged")
    username = next(u for u in USERS if protection.can_see_identity(case, actors[u]))
    login(client, username)
    response = client.post(f"/cases/act/{case.id}/original/{attachment.id}", data={})
    assert response.status_code == 404 and b"forged" not in response.data


# --- point 8: the filing first, the cleaning in a job ------------------------------------------------


def test_the_receipt_comes_before_the_cleaning_and_staff_cannot_open_a_file_being_cleaned(
    app, session, client, cats, fake_queue
):
    queue, connection = fake_queue
    pictures = [(f"现场{i}.png", photo(colour)) for i, colour in enumerate(("red", "green", "blue"))]
    number, code, receipt = file_through_page(client, cats, anonymous="y", files=pictures)
    assert number and code  # the receipt is shown: the case and the originals are saved
    case = session.query(Case).filter_by(number=number).one()
    assert [a.clean_state for a in case.attachments] == ["pending"] * 3
    assert all(a.staff_name is None and a.clean_queued_at for a in case.attachments)
    assert sorted(job.func_name for job in queue.jobs) == ["jobs.tasks.clean_attachment"] * 3
    for attachment in case.attachments:  # the originals are stored, unchanged
        assert stored_bytes(app, attachment.stored_name) == dict(pictures)[attachment.original_name]

    login(client, "clerk")
    page = staff_page(client, case)
    assert page.count("case-file-pending") == 3 and f"/cases/act/{case.id}/file/" not in page
    for attachment in case.attachments:
        response = client.get(f"/cases/act/{case.id}/file/{attachment.id}")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/show/{case.id}")

    client.post("/logout/")
    track(client, number, code)
    assert client.get("/track/case").get_data(as_text=True).count("track-file-pending") == 3

    run_worker(queue, connection)
    login(client, "clerk")
    session.expire_all()
    assert [a.clean_state for a in case.attachments] == ["clean"] * 3
    page = staff_page(client, case)
    assert "case-file-pending" not in page and page.count(f"/cases/act/{case.id}/file/") == 3
    for attachment in case.attachments:
        download = client.get(f"/cases/act/{case.id}/file/{attachment.id}")
        assert download.status_code == 200 and s.canaries_in(s.exiftool(download.data)) == []


def test_a_file_the_cleaner_cannot_clean_is_refused_with_a_clear_message_and_never_shown_raw(
    app, session, client, cats
):
    broken = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + b"\0\0\0\x10mdat" + s.AUTHOR.encode() * 4
    number, code, _ = file_through_page(client, cats, anonymous="y", files=[("坏视频.mp4", broken)])
    case = session.query(Case).filter_by(number=number).one()
    (attachment,) = case.attachments
    assert attachment.clean_state == "refused" and attachment.staff_name is None
    assert stored_bytes(app, attachment.stored_name) == broken  # kept as evidence
    login(client, "clerk")
    page = staff_page(client, case)
    assert "case-file-refused" in page and "坏视频.mp4" in page
    with app.test_request_context():
        from flask_babel import gettext

        message, params = attachments.refusal(attachment)
        assert gettext(message, **params) in page  # why, in the reader's language
    response = client.get(f"/cases/act/{case.id}/file/{attachment.id}")
    assert response.status_code == 302 and s.AUTHOR.encode() not in response.data
    client.post("/logout/")
    track(client, number, code)  # the reporter is told too, and can send it again otherwise
    tracking = client.get("/track/case").get_data(as_text=True)
    assert "track-file-refused" in tracking and "坏视频.mp4" in tracking
    with app.test_request_context():
        assert gettext(message, **params) in tracking


def test_a_cleaning_that_fails_is_tried_again_by_the_sweep_then_given_up(
    app, session, actors, cats, depts, monkeypatch
):
    from app import uploads

    def crash(*args, **kwargs):
        raise RuntimeError("ffmpeg was killed")

    monkeypatch.setattr(uploads, "clean_copy", crash)
    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    reporting.attach_files(case, [("合同.pdf", s.pdf())], now=NOW, staff=actors["clerk"])
    (attachment,) = case.attachments
    assert (attachment.clean_state, attachment.clean_attempts) == ("pending", 1)
    for minutes in (20, 40):
        sweep.run_sweep(session, NOW + timedelta(minutes=minutes))
        assert attachment.clean_state == "pending"
    assert attachment.clean_attempts == attachments.MAX_ATTEMPTS
    assert not is_stored(app, uploads.staff_name_for(attachments.stored_file(attachment)))
    assert sweep.run_sweep(session, NOW + timedelta(minutes=60))["uncleaned_files"] == 1
    assert attachment.clean_state == "refused" and attachment.clean_error["msgid"] == attachments.GAVE_UP
    assert sweep.run_sweep(session, NOW + timedelta(minutes=80))["uncleaned_files"] == 0


def test_a_failed_cleaning_succeeds_on_the_sweeps_next_try(app, session, actors, cats, depts, monkeypatch):
    from app import uploads

    real = uploads.clean_copy
    calls = []

    def first_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(uploads, "clean_copy", first_fails)
    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    reporting.attach_files(case, [("合同.docx", s.docx())], now=NOW, staff=actors["clerk"])
    (attachment,) = case.attachments
    assert attachment.clean_state == "pending"
    sweep.run_sweep(session, NOW + timedelta(minutes=20))
    assert attachment.clean_state == "clean" and attachment.clean_attempts == 2
    copy = stored_bytes(app, attachment.staff_name)
    assert s.canaries_in(s.unzipped_text(copy)) == []


def test_a_lost_cleaning_job_is_queued_again_by_the_sweep(app, session, actors, cats, depts, fake_queue):
    queue, connection = fake_queue
    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    reporting.attach_files(case, [("现场.png", photo())], now=NOW, staff=actors["clerk"])
    session.commit()
    assert queue.count == 1
    connection.flushall()  # Redis lost the job
    (attachment,) = case.attachments
    sweep.run_sweep(session, NOW + timedelta(minutes=5))
    session.commit()
    assert queue.count == 0  # queued five minutes ago: not given up on yet
    sweep.run_sweep(session, NOW + attachments.STALE + timedelta(minutes=1))
    session.commit()
    assert [job.args for job in queue.jobs] == [(attachment.id,)]
    run_worker(queue, connection)
    session.expire_all()
    assert attachment.clean_state == "clean" and attachment.clean_attempts == 1


def test_a_cleaning_job_run_twice_writes_one_copy(app, session, actors, cats, depts, fake_queue):
    from jobs import tasks

    queue, connection = fake_queue
    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    reporting.attach_files(case, [("合同.pdf", s.pdf())], now=NOW, staff=actors["clerk"])
    session.commit()
    (attachment,) = case.attachments
    before = stored_names(app)
    assert tasks.clean_attachment(attachment.id) == "clean"
    assert tasks.clean_attachment(attachment.id) == "nothing to do"
    session.expire_all()
    assert stored_names(app) - before == {attachment.staff_name}
    assert attachment.clean_attempts == 1


# --- point 8: no orphan file on any failure ---------------------------------------------------------


def test_an_exception_in_the_middle_of_saving_leaves_no_case_and_no_file(
    app, session, client, cats, monkeypatch
):
    from app import uploads

    real_write = uploads._write_atomic
    writes = []

    def fails_at_the_third(directory, name, data):
        writes.append(name)
        if len(writes) == 3:
            raise OSError("disk full")
        real_write(directory, name, data)

    before = stored_names(app)
    monkeypatch.setattr(uploads, "_write_atomic", fails_at_the_third)
    pictures = [(f"现场{i}.png", photo(size=(64 + i, 48))) for i in range(5)]
    with pytest.raises(OSError):
        file_through_page(client, cats, anonymous="y", title="写到一半失败", files=pictures)
    assert len(writes) == 3
    assert session.query(Case).filter_by(title="写到一半失败").count() == 0
    assert stored_names(app) == before


@pytest.mark.skipif(
    bool(os.environ.get("STORAGE_URL")),
    reason="local folders on purpose: temporary files and ages set on disk (S3: test_storage.py)",
)
def test_files_a_killed_process_left_behind_are_reaped_and_referenced_files_kept(
    app, session, actors, cats, depts
):
    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    reporting.attach_files(
        case, [("现场.png", photo()), ("合同.pdf", s.pdf())], now=NOW, staff=actors["clerk"]
    )
    session.flush()
    kept = {a.stored_name for a in case.attachments} | {a.staff_name for a in case.attachments}
    directory = upload_dir(app)
    orphans = {
        "0123456789abcdef0123456789abcdef.png",  # an original whose filing never committed
        "0123456789abcdef0123456789abcdef.staff.png",  # a copy whose job was killed before recording it
        ".upload-k1ll3d.part",  # a write cut short
    }
    fresh = "fedcba9876543210fedcba9876543210.pdf"  # a filing writing its files right now
    unknown = "README.txt"  # not ours: never touched
    for name in orphans | {fresh, unknown}:
        (directory / name).write_bytes(b"x")
    old = time.time() - 2 * 3600
    for name in kept | orphans | {unknown}:
        os.utime(directory / name, (old, old))
    removed = attachments.reap_orphans(session, clock.utcnow())
    on_disk = files_on_disk(app)
    assert removed == len(orphans) and not orphans & on_disk
    assert kept | {fresh, unknown} <= on_disk
    (directory / fresh).unlink()
    (directory / unknown).unlink()
