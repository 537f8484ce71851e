#!/usr/bin/env bash
# `make chaos`: scripted, repeatable faults (a worker killed mid-sweep, Redis stopped, PostgreSQL
# restarted, one whistle POSTed 50 times at once), checked in the database and summarised in
# docs/reliability.md. The script runs its OWN PostgreSQL cluster (port 55432) and redis-server
# (port 56379) and stops them at the end, so nobody else's services are touched.
# Extra arguments go to bench.chaos, e.g. scripts/chaos.sh redis-down --seconds 20.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"

command -v redis-server >/dev/null || { echo "make chaos needs redis-server" >&2; exit 2; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
  || { echo "make chaos needs the PostgreSQL server programs (initdb, pg_ctl)" >&2; exit 2; }
# The run's own var dir: logs, beat schedules and the private cluster (var/chaos/pg).
export WHISTLE_VAR_DIR="${WHISTLE_CHAOS_VAR_DIR:-$ROOT/var/chaos}"
# Nothing of the caller's services leaks in: bench.chaos sets its own URLs.
unset DATABASE_URL REDIS_URL

echo "Faults against a private PostgreSQL (55432) and Redis (56379); logs in $WHISTLE_VAR_DIR"
exec "$PY" -m bench.chaos "$@"
