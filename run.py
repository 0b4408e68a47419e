"""Start the whole platform for a user: a private Redis, the database with demo data, the web
server, an RQ worker and the cron scheduler (the sweep) — and stop them all together on Ctrl-C.

    python run.py            # http://127.0.0.1:5000  (PORT / HOST / DATABASE_URL override)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen, str]:
    """Start a private redis-server that keeps nothing on disk (time lives in the database)."""
    server = shutil.which("redis-server")
    if server is None:
        sys.exit("redis-server is not installed: run `make setup` (it installs Debian's redis-server)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="ys110-redis-")
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
            workdir,
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("the private redis-server did not start")


def main() -> None:
    os.environ.setdefault("TZ", "Asia/Shanghai")
    if os.environ.get("YS_DEMO") == "1":
        print(
            "营商110 demo mode (YS_DEMO=1, set by `make run`): demo data and the published demo keys of "
            "app/keys.py. Never use it for real reports: set SECRET_KEY, IDENTITY_KEY and QUERY_CODE_KEY "
            "and leave YS_DEMO unset (README, Production).",
            flush=True,
        )
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "5000")
    (BASE / "var").mkdir(exist_ok=True)
    redis, redis_url = start_redis()
    env = {
        "RATELIMIT_STORAGE_URI": redis_url,
        "PUBLIC_BASE_URL": f"http://{host}:{port}",
        **os.environ,
        "REDIS_URL": redis_url,
        "FLASK_APP": "app.factory:create_app",
        "PYTHONPATH": str(BASE),
    }
    children: list[subprocess.Popen] = []

    def stop(*_):
        for child in children + [redis]:
            if child.poll() is None:
                child.terminate()
        for child in children + [redis]:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        subprocess.run([BIN / "flask", "ys", "init"], env=env, cwd=BASE, check=True)
        cases = os.environ.get("DEMO_CASES", "300")  # how many demo cases (the tests take fewer)
        subprocess.run([BIN / "flask", "ys", "demo", "--cases", cases], env=env, cwd=BASE, check=True)
    except subprocess.CalledProcessError:
        stop()
    children.append(
        subprocess.Popen(
            [
                BIN / "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"{host}:{port}",
                "--access-logfile",
                "-",
                "app.factory:create_app()",
            ],
            env=env,
            cwd=BASE,
        )
    )
    children.append(subprocess.Popen([sys.executable, "-m", "jobs.worker", "default"], env=env, cwd=BASE))
    children.append(
        subprocess.Popen([BIN / "rq", "cron", "jobs/schedule.py", "--url", redis_url], env=env, cwd=BASE)
    )
    print(
        f"""
营商110 is running at http://{host}:{port}/  (Ctrl-C stops web, worker and Redis)
Demo logins (password Demo@2026):
  admin       管理员 Administrator
  clerk       受理员 Intake clerk
  dispatcher  分办员 Dispatcher
  handler     经办人 Handler, 长河县行政审批局 (also handler2…handler8 in other departments)
  supervisor  督办 Supervisor
  leader      领导 Leader
  hotline12345  a connected 12345 system: `flask --app app.factory:create_app ys api-key hotline12345`
Public pages: file a case http://{host}:{port}/report/   follow a case http://{host}:{port}/track/
REST API: http://{host}:{port}/swagger/v1   OpenAPI: http://{host}:{port}/api/v1/_openapi
""",
        flush=True,
    )
    while all(child.poll() is None for child in children):
        time.sleep(1)
    stop()


if __name__ == "__main__":
    main()
