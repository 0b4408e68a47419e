"""Benchmark: the public filing POST with ten large photos, and the cleaning that follows.

    .venv/bin/python bench/uploads.py [--files 10] [--mb 5] [--runs 3]

Builds its own SQLite database and upload folder in a temporary directory, starts a private
redis-server (when installed) and posts the public form like a browser, with ten PNGs of about
``--mb`` MB each (photo-like: a gradient with sensor noise, about 3.6 megapixels for 5 MB). Prints how long
the POST took (the reporter waits for it; gunicorn's worker timeout is 30 s) and, when the cleaning
runs in a job, how long one worker takes until staff can open every file.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("YS_DEMO", "1")

DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def chinese_to_int(text: str) -> int:
    if "十" not in text:
        return DIGITS[text]
    tens, _, ones = text.partition("十")
    return (DIGITS[tens] if tens else 1) * 10 + (DIGITS[ones] if ones else 0)


def photo_png(seed: int, megabytes: float) -> bytes:
    """A photo-like PNG of about ``megabytes`` MB (deterministic for a seed)."""
    from PIL import Image, ImageChops

    side = int(740 * megabytes**0.5)
    width, height = side * 4 // 3, side
    gradient = Image.linear_gradient("L").rotate(seed * 37 % 360).resize((width, height))
    channels = [
        ImageChops.add(gradient, Image.effect_noise((width, height), 12 + seed % 3).point(lambda v: v // 4))
        for _ in range(3)
    ]
    output = io.BytesIO()
    Image.merge("RGB", channels).save(output, "PNG")
    return output.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(directory: Path):
    server = shutil.which("redis-server")
    if server is None:
        return None, None
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return process, f"redis://127.0.0.1:{port}/0"


def file_once(client, cats, files) -> float:
    page = client.get("/report/").get_data(as_text=True)
    a, b = re.search(r"([零一二三四五六七八九十]+)加([零一二三四五六七八九十]+)等于", page).groups()
    token = re.search(r'name="challenge_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="challenge_token"', page
    )
    data = {
        "case_type": "complaint",
        "category_id": str(cats["GOV01"].id),
        "title": "施工现场照片",
        "content": "现场照片十张，请查收。",
        "region": "清源省/石门市/长河县",
        "anonymous": "y",
        "challenge_token": token.group(1),
        "challenge_answer": str(chinese_to_int(a) + chinese_to_int(b)),
        "attachments": [(io.BytesIO(content), f"现场{i}.png") for i, content in enumerate(files)],
    }
    started = time.perf_counter()
    response = client.post("/report/", data=data, content_type="multipart/form-data")
    elapsed = time.perf_counter() - started
    if response.status_code != 302:
        raise SystemExit(f"filing failed: {response.status_code} {response.get_data(as_text=True)[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
    redis_process, redis_url = start_redis(tmp)
    try:
        from app.cli import init_database
        from app.demo import load_org
        from app.extensions import db
        from app.factory import create_app
        from models import Category

        files = [photo_png(i, args.mb) for i in range(args.files)]
        sizes = [len(f) / 1024 / 1024 for f in files]
        print(f"{len(files)} PNGs, {min(sizes):.1f}-{max(sizes):.1f} MB each, {sum(sizes):.0f} MB in all")
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
                "WTF_CSRF_ENABLED": False,
                "FILING_RATE_LIMIT": "10000 per hour",
                "UPLOAD_DIR": str(tmp / "uploads"),
                "REPORT_DIR": str(tmp / "reports"),
                "ENQUEUE_AFTER_COMMIT": redis_url is not None,
                "REDIS_URL": redis_url or "redis://127.0.0.1:1/0",
            }
        )
        with app.app_context():
            init_database()
            load_org(db.session)
            db.session.commit()
            cats = {c.code: c for c in db.session.query(Category)}
        client = app.test_client()
        timings = [file_once(client, cats, files) for _ in range(args.runs)]
        print(
            f"filing POST: median {statistics.median(timings):.2f} s, max {max(timings):.2f} s "
            f"over {args.runs} filings ({', '.join(f'{t:.2f}' for t in timings)})"
        )
        try:
            from jobs import tasks
        except ImportError:  # pragma: no cover
            tasks = None
        if redis_url and tasks is not None and hasattr(tasks, "clean_attachment"):
            from redis import Redis
            from rq import Queue, SimpleWorker

            connection = Redis.from_url(redis_url)
            queue = Queue("default", connection=connection)
            jobs = len([j for j in queue.job_ids])
            started = time.perf_counter()
            with app.app_context():
                SimpleWorker([queue], connection=connection).work(burst=True)
            elapsed = time.perf_counter() - started
            with app.app_context():
                from models import Attachment

                states = dict(
                    db.session.query(Attachment.clean_state, db.func.count())
                    .group_by(Attachment.clean_state)
                    .all()
                )
            print(
                f"cleaning in one worker: {elapsed:.1f} s for {jobs} queued jobs "
                f"({elapsed / max(1, args.runs):.1f} s per filing of {args.files} files); states {states}"
            )
    finally:
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
