"""Killing the work midway loses no filing and leaves no orphan file (issue 13, point 8), against
a real Redis, real RQ workers and the real database (slow: `make test-slow`).

* A web process SIGKILLed while it writes a filing's files: the case does not exist, and the
  hourly reaper removes what it wrote (after-rollback callbacks cannot run in a dead process).
* A worker SIGKILLed while it cleans a filing's files, then Redis flushed: the sweep queues the
  files still pending again, a new worker cleans every one, and the folder holds exactly the
  files the rows refer to."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from app import clock
from app.services import attachments, reporting
from app.transaction import unit_of_work
from app.workflow import Status
from models import Attachment, Case
from tests import metadata_samples as s
from tests.conftest import at
from tests.factories import case_in
from tests.slow.test_faults import kill, start_worker, wait_idle
from tests.slow.test_faults import redis_url as redis_url  # the fixture

pytestmark = [pytest.mark.slow, pytest.mark.real_commits]
ROOT = Path(__file__).resolve().parents[2]


def large_photo(seed: int) -> bytes:
    """About 1.5 MB of photo-like PNG (a gradient with noise) with GPS tags: ~0.5 s to clean."""
    size = (1200, 900)
    gradient = Image.linear_gradient("L").rotate(seed * 40).resize(size)
    noise = Image.effect_noise(size, 12).point(lambda v: v // 4)
    picture = Image.merge("RGB", [ImageChops.add(gradient, noise)] * 3)
    output = io.BytesIO()
    picture.save(output, "PNG", exif=s.canary_exif())
    return output.getvalue()


def files_in(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def test_a_filing_killed_while_writing_its_files_leaves_no_case_and_its_files_are_reaped(
    app, session, tmp_path, monkeypatch
):
    upload_dir = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(upload_dir))
    script = textwrap.dedent(
        f"""
        import io, os, re, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from app.factory import create_app
        from app import uploads
        from tests.integration.test_reporter_side import answer_challenge
        from tests.slow.test_upload_faults import large_photo

        app = create_app({{
            "SQLALCHEMY_DATABASE_URI": {app.config["SQLALCHEMY_DATABASE_URI"]!r},
            "UPLOAD_DIR": {str(upload_dir)!r}, "WTF_CSRF_ENABLED": False,
            "FILING_RATE_LIMIT": "10000 per hour", "ENQUEUE_AFTER_COMMIT": False,
        }})
        real_fsync, calls = os.fsync, []
        def fsync(fd):  # the fifth file is written to its temporary name, not yet renamed
            calls.append(fd)
            if len(calls) == 9:  # (a file, then its directory, for each of the first four)
                os.kill(os.getpid(), signal.SIGKILL)
            real_fsync(fd)
        uploads.os.fsync = fsync
        client = app.test_client()
        token, answer = answer_challenge(client.get("/report/").get_data(as_text=True))
        client.post("/report/", content_type="multipart/form-data", data={{
            "case_type": "complaint", "title": "写入时进程被杀", "content": "十张照片。",
            "region": "清源省", "anonymous": "y",
            "challenge_token": token, "challenge_answer": answer,
            "attachments": [(io.BytesIO(large_photo(i)), f"现场{{i}}.png") for i in range(10)],
        }})
        print("not killed")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=300)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    left = files_in(upload_dir)
    assert len([n for n in left if n.endswith(".png")]) == 4 and any(n.endswith(".part") for n in left)
    assert session.query(Case).filter_by(title="写入时进程被杀").count() == 0

    assert attachments.reap_orphans(session, clock.utcnow()) == 0  # too young: maybe still writing
    later = clock.utcnow() + attachments.ORPHAN_AGE + timedelta(minutes=1)
    assert attachments.reap_orphans(session, later) == len(left)
    assert files_in(upload_dir) == set()


def test_a_worker_killed_while_cleaning_loses_no_file_and_leaves_no_orphan(
    app,
    session,
    actors,
    cats,
    depts,
    redis_url,
    tmp_path,
    monkeypatch,
):
    from redis import Redis
    from rq import Queue

    upload_dir = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(upload_dir))
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "ENQUEUE_AFTER_COMMIT", True)
    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=at("2026-09-30 10:00"))
    photos = [(f"现场{i}.png", large_photo(i)) for i in range(8)]
    reporting.attach_files(case, photos, now=clock.utcnow(), staff=actors["clerk"])
    session.commit()
    queue = Queue("default", connection=Redis.from_url(redis_url))
    assert queue.count == len(photos)  # one job per file, queued once the filing committed

    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "UPLOAD_DIR": str(upload_dir),
        "ENQUEUE_AFTER_COMMIT": "0",
        "PYTHONPATH": str(ROOT),
    }
    ids = [a.id for a in case.attachments]

    def states():
        found = [a.clean_state for a in session.query(Attachment).filter(Attachment.id.in_(ids))]
        session.rollback()  # end the read at once: SQLite's workers must be able to write
        return found

    worker = start_worker(env)
    try:
        deadline = time.time() + 120
        while "clean" not in states() and time.time() < deadline:
            time.sleep(0.05)
    finally:
        kill(worker)  # in the middle of the cleaning: some files done, one under way, others queued
    done_before = states().count("clean")
    assert 0 < done_before < len(photos)
    queue.connection.flushall()  # and Redis loses the jobs still queued

    worker = start_worker(env)
    try:
        with unit_of_work(session):
            attachments.sweep_pending(session, clock.utcnow() + attachments.STALE + timedelta(minutes=1))
        # wait for the files themselves, not only for an empty queue: between taking a job and
        # registering it as started, RQ shows an empty queue and no started job
        deadline = time.time() + 120
        while states() != ["clean"] * len(photos) and time.time() < deadline:
            time.sleep(0.2)
        wait_idle(queue)
    finally:
        kill(worker)
    assert states() == ["clean"] * len(photos)
    rows = session.query(Attachment).filter(Attachment.id.in_(ids)).all()
    assert all(1 <= a.clean_attempts <= 2 for a in rows)
    for attachment in rows:
        copy = (upload_dir / attachment.staff_name).read_bytes()
        assert s.canaries_in(s.exiftool(copy)) == [] and Image.open(io.BytesIO(copy)).size == (1200, 900)
    attachments.reap_orphans(session, clock.utcnow() + attachments.ORPHAN_AGE + timedelta(minutes=1))
    assert files_in(upload_dir) == {a.stored_name for a in rows} | {a.staff_name for a in rows}
