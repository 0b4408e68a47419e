#!/usr/bin/env bash
# Run the whole test suite: once on SQLite (fast), then on PostgreSQL + Redis (the real parts).
set -euo pipefail
cd "$(dirname "$0")/.."
# No option: lint, the import contract, the default suite and the slow suite (fault tests with
# a real redis-server, the browser journey, the deep schemathesis pass), each on SQLite then
# PostgreSQL. --quick: the default suite only; --slow: the slow suite only.
suites=("not slow" "slow")
case "${1:-}" in
  --quick) suites=("not slow"); shift ;;
  --slow) suites=("slow"); shift ;;
esac
bash scripts/setup.sh

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_up; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 30); do pg_up && break; sleep 1; done
fi
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
if ! redis_up; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 30); do redis_up && break; sleep 1; done
fi

echo "== lint and the import contract"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
for marker in "${suites[@]}"; do
  echo "== tests ($marker) on SQLite"
  .venv/bin/python -m pytest -m "$marker" "$@"
  echo "== tests ($marker) on PostgreSQL"
  TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
    REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0} \
    .venv/bin/python -m pytest -m "$marker" "$@"
done
