"""File storage (app/storage.py): one contract, two backends. Local folders (the default, laid
out as before) and an S3-compatible object store (moto's server on a free port, spoken to over
HTTP by boto3 exactly as MinIO or a cloud's S3 would be) keep, stream, refuse and guard files
alike; with S3 configured, uploads, notices, reports and seals leave nothing on the local disk.

The other file tests run against S3 too with the switch at the bottom of this module:
``python -m tests.integration.test_storage tests/integration/test_files.py …`` starts a moto
server and runs pytest with STORAGE_URL pointing at it."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import socket
import stat
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from app import clock, storage
from app.services import attachments, reporting
from app.storage import LocalStore
from app.workflow import Status
from models import Case, Notice
from tests import metadata_samples as s
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-11-02 10:00")
KEYS = {"S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """A local S3-compatible server (moto in server mode) on a free port, for the whole run."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_settings(endpoint: str, bucket: str, prefix: str = "ys110") -> dict:
    return {"STORAGE_URL": f"s3://{bucket}/{prefix}", "S3_ENDPOINT_URL": endpoint, **KEYS}


def new_bucket(endpoint: str) -> str:
    bucket = f"ys-{uuid.uuid4().hex[:12]}"
    storage.s3_client({"S3_ENDPOINT_URL": endpoint, **KEYS}).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """One area's store, on each backend."""
    if request.param == "local":
        return LocalStore(tmp_path / "area")
    endpoint = request.getfixturevalue("s3_endpoint")
    return storage.store_for(s3_settings(endpoint, new_bucket(endpoint)), "notices")


@pytest.fixture
def on_s3(app, s3_endpoint, monkeypatch, tmp_path):
    """The app configured for S3 (a fresh bucket), its local folders empty (so that what is
    written there shows); returns the config to reach the bucket."""
    settings = s3_settings(s3_endpoint, new_bucket(s3_endpoint))
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    for area_name, setting in storage.AREAS.items():
        monkeypatch.setitem(app.config, setting, str(tmp_path / "local" / area_name))
    return settings


def local_files(app) -> list[str]:
    found = []
    for setting in storage.AREAS.values():
        directory = Path(app.config[setting])
        if directory.is_dir():
            found += [p.name for p in directory.iterdir()]
    return found


def s3_store(settings, area_name):
    return storage.store_for(settings, area_name)


# --- the contract, on both backends ------------------------------------------------------------


def test_a_file_put_is_read_back_whole_and_a_second_put_replaces_it(store):
    store.put("a.pdf", b"first")
    assert store.get("a.pdf") == b"first" and store.exists("a.pdf")
    store.put("a.pdf", b"second, longer")
    assert store.get("a.pdf") == b"second, longer"
    assert [e.name for e in store.list()] == ["a.pdf"]


def test_the_first_writer_of_a_content_addressed_file_wins_even_when_writers_race(store):
    assert store.put_new("n.pdf", b"issued") is True
    assert store.put_new("n.pdf", b"another rendering") is False
    assert store.get("n.pdf") == b"issued"
    results, barrier = {}, threading.Barrier(6)

    def write(i):
        barrier.wait()
        results[i] = store.put_new("race.pdf", f"writer {i}".encode())

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [winner] = [i for i, won in results.items() if won]
    assert store.get("race.pdf") == f"writer {winner}".encode()
    assert sorted(e.name for e in store.list()) == ["n.pdf", "race.pdf"]  # no temporary left


def test_a_missing_file_is_not_found_and_deleting_it_is_harmless(store):
    for read in (store.get, store.open, store.sendable):
        with pytest.raises(FileNotFoundError):
            read("missing.png")
    assert not store.exists("missing.png")
    store.delete("missing.png")
    store.put("x.png", b"x")
    store.delete("x.png")
    assert not store.exists("x.png") and list(store.list()) == []


@pytest.mark.parametrize("key", ["../x", "a/b", "", ".", "..", "/etc/passwd", "x\\y", "x\x00y"])
def test_a_name_that_is_a_path_never_reaches_a_file(store, key):
    store.put("x", b"inside")
    assert store.exists(key) is False
    for call in (store.get, store.open, store.sendable, lambda k: store.put(k, b"outside")):
        with pytest.raises(FileNotFoundError):
            call(key)
    with pytest.raises(FileNotFoundError):
        store.put_new(key, b"outside")
    try:
        store.delete(key)  # nothing to delete: quietly nothing, or refused
    except FileNotFoundError:
        pass
    assert [e.name for e in store.list()] == ["x"]


def test_a_large_file_is_streamed_in_chunks(store):
    data = os.urandom(5 * 1024 * 1024)
    store.put("big.mp4", data)
    with store.open("big.mp4") as stream:
        first = stream.read(64 * 1024)
        assert len(first) == 64 * 1024  # a chunk, not the whole file
        rest = stream.read()
    assert first + rest == data
    sendable = store.sendable("big.mp4")
    if isinstance(store, LocalStore):
        assert sendable == store.directory / "big.mp4"  # send_file serves the path, as before
    else:
        assert not isinstance(sendable, (bytes, io.BytesIO))
        sendable.close()


def test_the_listing_gives_each_files_time_of_writing(store):
    before = time.time() - 5
    store.put("a.png", b"a")
    [entry] = store.list()
    assert entry.name == "a.png" and before <= entry.modified <= time.time() + 5


def test_local_files_keep_todays_layout_and_modes(tmp_path):
    directory = tmp_path / "uploads"
    local = LocalStore(directory)
    local.put("0123456789abcdef0123456789abcdef.png", b"photo")
    local.put_new("f" * 64 + ".pdf", b"%PDF")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in directory.iterdir()) == [
        "0123456789abcdef0123456789abcdef.png",
        "f" * 64 + ".pdf",
    ]
    (directory / "link.png").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").write_bytes(b"not ours")
    with pytest.raises(FileNotFoundError):
        local.get("link.png")  # a link out of the folder is no file of it


def test_areas_are_kept_apart_under_the_prefix_and_objects_are_private(s3_endpoint):
    settings = s3_settings(s3_endpoint, new_bucket(s3_endpoint), prefix="prod/ys110")
    uploads, notices = s3_store(settings, "uploads"), s3_store(settings, "notices")
    uploads.put("0123456789abcdef0123456789abcdef.png", b"a reporter's photo")
    assert list(notices.list()) == [] and not notices.exists("0123456789abcdef0123456789abcdef.png")
    client = storage.s3_client(settings)
    bucket = settings["STORAGE_URL"].split("/")[2]
    [item] = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert item["Key"] == "prod/ys110/uploads/0123456789abcdef0123456789abcdef.png"
    grants = client.get_object_acl(Bucket=bucket, Key=item["Key"])["Grants"]
    assert all("URI" not in g["Grantee"] for g in grants)  # no AllUsers / AuthenticatedUsers grant
    with pytest.raises(urllib.error.HTTPError) as refused:  # an unsigned request: a public URL
        urllib.request.urlopen(f"{s3_endpoint}/{bucket}/{item['Key']}", timeout=10)
    assert refused.value.code == 403


def test_an_unreachable_store_is_an_oserror_the_callers_already_handle():
    settings = {"STORAGE_URL": "s3://nowhere/x", "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", **KEYS}
    unreachable = s3_store(settings, "reports")
    unreachable.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(OSError):
        unreachable.put("r.pdf", b"x")
    with pytest.raises(OSError):
        unreachable.get("r.pdf")


def test_a_storage_url_that_is_not_s3_is_refused():
    for url in ("http://bucket/x", "s3://", "/var/ys110"):
        with pytest.raises(ValueError):
            storage.store_for({"STORAGE_URL": url}, "uploads")


# --- the platform on S3: nothing on the local disk, the same guarantees ----------------------


def photo(colour="red") -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(output, "PNG", exif=s.canary_exif())
    return output.getvalue()


def test_a_filed_photo_goes_to_the_bucket_and_staff_download_its_cleaned_copy(app, session, cats, on_s3):
    from tests.integration.test_reporter_side import file_through_page

    client = app.test_client()
    original = photo()
    number, _, _ = file_through_page(client, cats, anonymous="y", files=[("现场.png", original)])
    case = session.query(Case).filter_by(number=number).one()
    [attachment] = case.attachments
    assert attachment.clean_state == "clean" and local_files(app) == []
    uploads = s3_store(on_s3, "uploads")
    assert uploads.get(attachment.stored_name) == original  # the evidence, untouched
    cleaned = uploads.get(attachment.staff_name)
    assert s.canaries_in(s.exiftool(cleaned) + cleaned.decode("latin-1")) == []
    login(client, "clerk")
    download = client.get(f"/cases/act/{case.id}/file/{attachment.id}")
    assert download.status_code == 200 and download.data == cleaned
    assert download.headers["Cache-Control"] == "private, no-store"


def test_an_original_altered_in_the_bucket_is_not_served(app, session, actors, cats, depts, on_s3):
    from app.services import protection

    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, lead="X102")
    reporting.attach_files(case, [("合同.pdf", s.pdf())], now=NOW, reporter=case.reporters[0])
    session.commit()
    [attachment] = case.attachments
    client = app.test_client()
    username = next(u for u in actors if protection.can_see_identity(case, actors[u]))
    login(client, username)
    served = client.post(f"/cases/act/{case.id}/original/{attachment.id}", data={})
    assert served.status_code == 200 and hashlib.sha256(served.data).hexdigest() == attachment.sha256
    s3_store(on_s3, "uploads").put(attachment.stored_name, b"%PDF-1.7 forged")
    response = client.post(f"/cases/act/{case.id}/original/{attachment.id}", data={})
    assert response.status_code == 404 and b"forged" not in response.data


def test_orphans_in_the_bucket_are_reaped_and_referenced_files_kept(app, session, actors, cats, depts, on_s3):
    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    reporting.attach_files(case, [("现场.png", photo())], now=NOW, staff=actors["clerk"])
    session.flush()
    uploads = s3_store(on_s3, "uploads")
    orphan, unknown = "0123456789abcdef0123456789abcdef.staff.png", "README.txt"
    uploads.put(orphan, b"x")
    uploads.put(unknown, b"x")
    assert attachments.reap_orphans(session, clock.utcnow()) == 0  # all too young
    later = clock.utcnow() + attachments.ORPHAN_AGE + timedelta(minutes=1)
    assert attachments.reap_orphans(session, later) == 1
    [kept] = case.attachments
    assert {e.name for e in uploads.list()} == {kept.stored_name, kept.staff_name, unknown}


def test_an_issued_notice_is_stored_once_in_the_bucket_and_an_altered_one_is_never_served(
    app, session, actors, cats, depts, on_s3, caplog
):
    from app.services import jurisdictions as js
    from app.services import seals, sweep
    from app.supervision import NoticeCause
    from tests.integration.test_notice_freeze import png

    office = js.root(session)
    office.seal_sha256 = seals.store_seal(png())
    case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    [notice] = session.query(Notice).filter_by(cause=NoticeCause.UNSIGNED).all()
    session.commit()
    client = app.test_client()
    login(client, "supervisor")
    first = client.get(f"/notices/act/{notice.id}/pdf")
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    session.expire_all()
    key = f"{notice.pdf_sha256}.pdf"
    notices = s3_store(on_s3, "notices")
    assert hashlib.sha256(first.data).hexdigest() == notice.pdf_sha256 and notices.get(key) == first.data
    assert s3_store(on_s3, "seals").exists(f"{office.seal_sha256}.png") and local_files(app) == []
    notices.put(key, first.data + b"%tampered")
    altered = client.get(f"/notices/act/{notice.id}/pdf")
    assert altered.status_code == 500 and not altered.data.startswith(b"%PDF")
    assert any("no longer matches" in r.getMessage() for r in caplog.records)
    notices.delete(key)
    lost = client.get(f"/notices/act/{notice.id}/pdf")
    assert lost.status_code == 500 and any("is missing" in r.getMessage() for r in caplog.records)
    session.expire_all()
    assert notice.pdf_sha256 == hashlib.sha256(first.data).hexdigest() and not notices.exists(key)


def test_a_generated_report_is_kept_in_the_bucket_and_streamed_to_the_reader(app, session, actors, on_s3):
    from tests.integration.test_publication import generate

    report = generate(session, "assessment", "2026-10", actors["supervisor"])
    assert report.state == "done", report.error
    reports = s3_store(on_s3, "reports")
    assert {e.name for e in reports.list()} == {f"{report.file_name}.{fmt}" for fmt in ("pdf", "csv", "xlsx")}
    assert report.pages and report.pages >= 1 and local_files(app) == []
    client = app.test_client()
    login(client, "supervisor")
    download = client.get(f"/reports/act/download/{report.id}/pdf")
    assert download.status_code == 200 and download.is_streamed
    assert download.data == reports.get(f"{report.file_name}.pdf")
    assert hashlib.sha256(download.data).hexdigest() == report.pdf_sha256
    reports.delete(f"{report.file_name}.csv")
    assert client.get(f"/reports/act/download/{report.id}/csv").status_code == 404


# --- listing page by page, and downloads with their length ------------------------------------


@pytest.fixture(params=["local", "s3"])
def backend(request, app, monkeypatch, tmp_path):
    """The app on each backend (a fresh folder or bucket), listing 3 names a page; returns the
    upload store."""
    monkeypatch.setitem(app.config, "STORAGE_PAGE_SIZE", 3)
    if request.param == "s3":
        request.getfixturevalue("on_s3")
    else:
        for area_name, setting in storage.AREAS.items():
            monkeypatch.setitem(app.config, setting, str(tmp_path / "local" / area_name))
    return storage.store_for(app.config, "uploads")


def test_a_listing_comes_page_by_page_and_a_page_never_exceeds_its_size(store):
    store.page_size = 2
    names = {"a1.pdf", "a2.pdf", "a3.pdf", "b1.pdf", "b2.pdf", "b3.pdf", "c1.pdf"}
    for name in names:
        store.put(name, b"x")
    pages = list(store.pages())
    assert len(pages) == 4 and all(1 <= len(page) <= 2 for page in pages)
    assert sorted(e.name for page in pages for e in page) == sorted(names)  # each name once
    by_prefix = list(store.pages("a"))
    assert len(by_prefix) == 2
    assert {e.name for page in by_prefix for e in page} == {"a1.pdf", "a2.pdf", "a3.pdf"}
    assert list(store.pages("d")) == [] and list(store.pages("../")) == []
    assert sorted(e.name for e in store.list()) == sorted(names)


def wait_for_next_second() -> float:
    """A whole second in the future, once it has passed (an object store may keep its times to
    the second): what is written before it is older, what is written after it is not."""
    boundary = int(time.time()) + 1
    time.sleep(max(0.0, boundary - time.time()) + 0.05)
    return float(boundary)


def test_the_reaper_walks_a_store_larger_than_a_page(app, session, actors, cats, depts, backend):
    from app.uploads import is_generated_name

    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    files = [(f"现场{i}.png", photo(colour)) for i, colour in enumerate(("red", "green", "blue"))]
    reporting.attach_files(case, files, now=NOW, staff=actors["clerk"])
    session.flush()
    referenced = {n for a in case.attachments for n in (a.stored_name, a.staff_name)}
    assert len(referenced) == 6 and all(is_generated_name(n) for n in referenced)
    orphans = {f"{i:032x}.png" for i in range(4)} | {f"{i:032x}.staff.png" for i in range(10, 13)}
    for name in orphans:
        backend.put(name, b"left by a killed process")
    unknown = "README.txt"  # not a name the platform gives: never touched
    backend.put(unknown, b"x")
    if isinstance(backend, LocalStore):  # a half-written temporary file (local folders only)
        (backend.directory / f"{storage.TEMP_PREFIX}abc.part").write_bytes(b"half")
        orphans.add(f"{storage.TEMP_PREFIX}abc.part")
    boundary = wait_for_next_second()
    fresh = {f"{i:032x}.pdf" for i in range(20, 24)}  # a filing still writing its files
    for name in fresh:
        backend.put(name, b"being filed")
    everything = referenced | orphans | fresh | {unknown}
    assert {e.name for e in backend.list()} == everything
    assert len(list(backend.pages())) >= len(everything) // 3 > 1  # more files than a page

    now = datetime.fromtimestamp(boundary, UTC).replace(tzinfo=None) + attachments.ORPHAN_AGE
    assert attachments.reap_orphans(session, now) == len(orphans)
    assert {e.name for e in backend.list()} == referenced | fresh | {unknown}
    assert attachments.reap_orphans(session, now) == 0
    later = now + timedelta(minutes=5)  # the fresh ones, once old enough, are orphans too
    assert attachments.reap_orphans(session, later) == len(fresh)
    assert {e.name for e in backend.list()} == referenced | {unknown}
    for attachment in case.attachments:
        assert backend.get(attachment.stored_name) == dict(files)[attachment.original_name]


def assert_whole_download(response, data: bytes) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(data))
    assert response.get_data() == data


def test_case_files_are_downloaded_with_their_length(app, session, actors, cats, depts, backend):
    from app.services import protection

    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, lead="X102")
    reporting.attach_files(case, [("现场.png", photo())], now=NOW, reporter=case.reporters[0])
    session.commit()
    [attachment] = case.attachments
    assert attachment.clean_state == "clean"
    client = app.test_client()
    username = next(u for u in actors if protection.can_see_identity(case, actors[u]))
    login(client, username)
    copy = client.get(f"/cases/act/{case.id}/file/{attachment.id}")
    assert_whole_download(copy, backend.get(attachment.staff_name))
    assert copy.headers["Cache-Control"] == "private, no-store"
    assert copy.headers["Content-Disposition"].startswith("attachment;")
    assert copy.headers["Content-Type"] == "image/png"
    original = client.post(f"/cases/act/{case.id}/original/{attachment.id}", data={})
    assert_whole_download(original, backend.get(attachment.stored_name))
    assert original.headers["Cache-Control"] == "private, no-store"
    assert original.headers["Content-Disposition"].startswith("attachment;")
    assert hashlib.sha256(original.data).hexdigest() == attachment.sha256


def test_reports_are_downloaded_from_the_bucket_with_their_length(app, session, actors, on_s3):
    from tests.integration.test_publication import generate

    reports = s3_store(on_s3, "reports")
    assessment = generate(session, "assessment", "2026-10", actors["supervisor"])
    bulletin = generate(session, "bulletin", "2026-10", actors["leader"])
    assert assessment.state == bulletin.state == "done"
    client = app.test_client()
    login(client, "supervisor")
    for fmt in ("pdf", "csv", "xlsx"):
        download = client.get(f"/reports/act/download/{assessment.id}/{fmt}")
        assert download.is_streamed
        assert_whole_download(download, reports.get(f"{assessment.file_name}.{fmt}"))
        assert download.headers["Content-Disposition"].startswith("attachment;")
    client.post("/logout/")
    login(client, "leader")
    assert client.post(f"/reports/act/publish/{bulletin.id}", data={}).status_code == 302
    client.post("/logout/")
    public = client.get(f"/bulletins/{bulletin.id}.pdf")
    assert_whole_download(public, reports.get(f"{bulletin.file_name}.pdf"))
    assert public.headers["Content-Type"] == "application/pdf"
    assert public.headers["Content-Disposition"].startswith("attachment;")


def test_an_issued_notice_is_downloaded_from_the_bucket_with_its_length(
    app, session, actors, cats, depts, on_s3
):
    from app.services import sweep
    from app.supervision import NoticeCause

    case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    [notice] = session.query(Notice).filter_by(cause=NoticeCause.UNSIGNED).all()
    session.commit()
    client = app.test_client()
    login(client, "supervisor")
    first = client.get(f"/notices/act/{notice.id}/pdf")
    session.expire_all()
    stored = s3_store(on_s3, "notices").get(f"{notice.pdf_sha256}.pdf")
    assert_whole_download(first, stored)
    assert_whole_download(client.get(f"/notices/act/{notice.id}/pdf"), stored)


# --- the switch: run other file tests against S3 -----------------------------------------------


def main(argv: list[str]) -> int:
    """Start a moto server, make a bucket and run pytest on ``argv`` with S3 configured."""
    import subprocess

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        settings = s3_settings(endpoint, new_bucket(endpoint))
        env = {**os.environ, **settings}
        return subprocess.call([sys.executable, "-m", "pytest", *argv], env=env)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
