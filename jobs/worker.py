"""Run an RQ worker with the application built once, before jobs are forked, so each job starts
in milliseconds: `python -m jobs.worker [queue ...]` (REDIS_URL from the environment)."""

from __future__ import annotations

import os
import sys

from redis import Redis
from rq import Worker

from jobs import tasks


def main(argv: list[str]) -> None:
    from app.keys import InsecureConfiguration

    try:
        with tasks.app_context():  # builds and caches the app in this (parent) process
            pass
    except InsecureConfiguration as refused:
        sys.exit(str(refused))
    connection = Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    Worker(argv or ["default"], connection=connection).work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
