#!/usr/bin/env bash
# `make bench`: the benchmarks of DESIGN.md section 10, against PostgreSQL, figures written to
# docs/benchmarks.md. DATABASE_URL names a database the benchmark may empty and refill
# (default postgres://postgres@127.0.0.1:5432/whistle_bench; created when missing).
# Extra arguments go to the sweep benchmark, e.g. scripts/bench.sh --open 100000 --profile.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/whistle_bench}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "make bench needs PostgreSQL: DATABASE_URL=$DATABASE_URL" >&2; exit 2 ;;
esac
# The benchmark's own var dir: its cache and secret key never touch the development ones.
export WHISTLE_VAR_DIR="${WHISTLE_BENCH_VAR_DIR:-$ROOT/var/bench}"

echo "Timer sweep benchmark against ${DATABASE_URL%%\?*}"
"$PY" -m bench.sweep "$@"
