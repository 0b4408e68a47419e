"""Fault tests against a real Redis and the real database (slow: `make test-slow`).

A worker killed in the middle of a sweep, then Redis flushed, then a new worker: every due
timer fires once in effect, no notice is duplicated, every message reaches the sink."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from app.supervision import NoticeCause
from app.workflow import Status
from models import Assignment, InboxMessage, Notice, Notification
from tests.conftest import at
from tests.factories import case_in

pytestmark = [pytest.mark.slow, pytest.mark.real_commits]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sms_sink():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.headers["Idempotency-Key"], body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/sms", received
    server.shutdown()


def start_worker(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "default"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=open("/tmp/ys-worker.log", "ab"),
        stderr=subprocess.STDOUT,
    )


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_idle(queue, timeout=90) -> None:
    from rq.registry import StartedJobRegistry

    deadline = time.time() + timeout
    while time.time() < deadline:
        if queue.count == 0 and StartedJobRegistry(queue=queue).count == 0:
            return
        time.sleep(0.3)
    raise AssertionError("the queue did not drain")


def test_a_killed_worker_and_a_flushed_redis_lose_and_duplicate_nothing(
    app, session, actors, cats, depts, redis_url, sms_sink
):
    from redis import Redis
    from rq import Queue

    from jobs import tasks

    sms_url, received = sms_sink
    for i in range(40):
        case_in(
            session,
            actors,
            cats,
            depts,
            Status.DISPATCHED,
            now=at("2026-11-02 10:00"),
            reporter_phone=f"1380000{i:04d}",
        )
    session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "SMS_GATEWAY_URL": sms_url,
        "ENQUEUE_AFTER_COMMIT": "0",
        "PYTHONPATH": str(ROOT),
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
    }
    connection = Redis.from_url(redis_url)
    queue = Queue("default", connection=connection)

    queue.enqueue(tasks.sweep)
    worker = start_worker(env)
    time.sleep(1.5)  # the sweep or the first deliveries are under way
    kill(worker)
    connection.flushall()  # Redis loses everything in flight

    worker = start_worker(env)
    try:
        for _ in range(3):  # the next ticks of the cron schedule
            queue.enqueue(tasks.sweep)
            wait_idle(queue)
    finally:
        kill(worker)

    session.expire_all()
    assignments = session.query(Assignment).filter_by(active=True).all()
    for cause in (NoticeCause.UNSIGNED, NoticeCause.OVERDUE):
        raised = session.query(Notice).filter_by(cause=cause).all()
        assert len(raised) == len(assignments) == len({n.cause_key for n in raised})
    assert session.query(Notification).filter_by(status="pending").count() == 0
    inbox = session.query(Notification).filter_by(channel="inbox").count()
    assert session.query(InboxMessage).count() == inbox
    sms = {n.key for n in session.query(Notification).filter_by(channel="sms")}
    assert {key for key, _ in received} == sms  # every SMS reached the gateway, keyed
