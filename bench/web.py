"""Benchmark: filing throughput through the intake API under gunicorn (2 workers), against a
bare Flask endpoint that inserts one row into the same PostgreSQL database (the baseline).

    make bench-web     # or: .venv/bin/python bench/web.py --requests 600 --concurrency 8 [--reuse]

Files into the benchmark database of bench/seed.py (1 million cases, or --5m).

Prints requests/s, p50/p95 latency and CPU milliseconds per request (the gunicorn processes and
the PostgreSQL backends of the benchmark database, read from /proc: the figure least sensitive to
the machine's other load) of each, and their ratios. Target (issue 18): at least 0.3x the
baseline's throughput with p95 under 100 ms at 1 million cases on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seed import add_arguments, case_count, seeded_app  # noqa: E402

BASELINE_APP = """
import os
from flask import Flask, request, jsonify
from sqlalchemy import create_engine, text
engine = create_engine(os.environ["DATABASE_URL"], pool_size=4)
with engine.begin() as c:
    c.execute(text("CREATE TABLE IF NOT EXISTS bench_row (id serial primary key, title text, "
                   "content text, created_at timestamp default now())"))
app = Flask(__name__)
@app.post("/file")
def file():
    body = request.get_json()
    with engine.begin() as c:
        new_id = c.execute(text("INSERT INTO bench_row (title, content) VALUES (:t, :c) "
                                "RETURNING id"), {"t": body["title"], "c": body["content"]}).scalar()
    return jsonify(id=new_id), 201
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"nothing listens on {port}")


def load(port: int, path: str, headers: dict, requests: int, concurrency: int) -> dict:
    latencies, errors, lock = [], [], threading.Lock()
    counter = iter(range(requests))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = json.dumps(
                {
                    "case_type": "complaint",
                    "channel": "api",
                    "anonymous": True,
                    "title": f"压测工单{i}",
                    "content": "审批超时，请核查。" * 5,
                }
            )
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                (latencies if response.status == 201 else errors).append(
                    elapsed if response.status == 201 else response.status
                )

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "ok": len(latencies),
        "errors": len(errors),
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000 if latencies else None,
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000 if latencies else None,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_tree(root: int) -> list[int]:
    """``root`` and its children (gunicorn's master and workers)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rpartition(")")[2].split()[1]) == root:
                        children.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return [root, *children]


def cpu_snapshot(server_pid: int, engine) -> dict[str, dict[int, float]]:
    """CPU seconds of the server's processes and of the database's backends (but this one)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        backends = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ).scalars()
        backends = list(backends)
    return {
        "server": {pid: _cpu_seconds(pid) for pid in _process_tree(server_pid)},
        "database": {pid: _cpu_seconds(pid) for pid in backends},
    }


def cpu_ms_per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
    spent = {
        side: sum(seconds - before[side].get(pid, 0.0) for pid, seconds in after[side].items())
        for side in after
    }
    return {side: 1000 * seconds / max(requests, 1) for side, seconds in spent.items()}


def serve(args_list, env) -> subprocess.Popen:
    return subprocess.Popen(
        args_list,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-jwt", action="store_true", help="skip the clerk's JWT run")
    args = parser.parse_args()
    _app, url, _info = seeded_app(case_count(args), reuse=args.reuse)
    filing_figures(url, args.requests, args.concurrency, jwt_run=not args.no_jwt)


def filing_figures(url: str, requests: int = 600, concurrency: int = 8, *, jwt_run: bool = True) -> dict:
    """Filing throughput into the database at ``url`` (already seeded), against the baseline."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(ROOT),
        "ENQUEUE_AFTER_COMMIT": "0",
        "FLASK_APP": "app.factory:create_app",
        "RATELIMIT_ENABLED": "0",
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "flask", "ys", "init"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [bin_dir / "flask", "ys", "demo", "--cases", "0"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    key = (
        subprocess.run(
            [bin_dir / "flask", "ys", "api-key", "hotline12345"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    jwt = None

    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="ys110-bench-"))
    (scratch / "bench_baseline_app.py").write_text(BASELINE_APP)
    env["PYTHONPATH"] = f"{scratch}:{ROOT}"
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    probe = create_engine(url, poolclass=NullPool)
    results = {}
    for name, target, path, headers in (
        ("baseline (bare Flask, one INSERT)", "bench_baseline_app:app", "/file", {}),
        (
            "filing through the intake API (API key)",
            "app.factory:create_app()",
            "/api/v1/case/",
            {"Authorization": f"Bearer {key}"},
        ),
        ("filing through the intake API (clerk JWT)", "app.factory:create_app()", "/api/v1/case/", None),
    )[: 3 if jwt_run else 2]:
        port = free_port()
        server = serve([str(bin_dir / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", target], env)
        try:
            wait_for(port)
            if headers is None:
                conn = http.client.HTTPConnection("127.0.0.1", port)
                conn.request(
                    "POST",
                    "/api/v1/security/login",
                    body=json.dumps({"username": "clerk", "password": "Demo@2026", "provider": "db"}),
                    headers={"Content-Type": "application/json"},
                )
                jwt = json.loads(conn.getresponse().read())["access_token"]
                headers = {"Authorization": f"Bearer {jwt}"}
            load(port, path, headers, 20, 2)  # warm up
            before = cpu_snapshot(server.pid, probe)
            results[name] = load(port, path, headers, requests, concurrency)
            results[name]["cpu"] = cpu_ms_per_request(
                before, cpu_snapshot(server.pid, probe), results[name]["ok"] + results[name]["errors"]
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        r = results[name]
        cpu = r["cpu"]
        print(
            f"{name}: {r['rps']:.1f} requests/s, p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, "
            f"{r['ok']} ok, {r['errors']} errors; CPU per request {cpu['server']:.2f} ms server + "
            f"{cpu['database']:.2f} ms database = {cpu['server'] + cpu['database']:.2f} ms"
        )
    base, *others = results.values()
    for name, real in zip(list(results)[1:], others, strict=True):
        cpu, base_cpu = sum(real["cpu"].values()), sum(base["cpu"].values())
        print(
            f"{name} vs baseline: {real['rps'] / base['rps']:.2f}× throughput, "
            f"{real['p95'] / base['p95']:.2f}× p95, {cpu / base_cpu:.2f}× CPU per request"
        )
    return results


if __name__ == "__main__":
    main()
