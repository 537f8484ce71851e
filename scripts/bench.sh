#!/usr/bin/env bash
# `make bench`: the benchmarks of docs/benchmarks.md, one after another in one
# run (never side by side: each needs the machine to itself), against PostgreSQL and Redis,
# with real gunicorn and Celery processes; the figures go to docs/benchmarks.md.
#
#   scripts/bench.sh                   # all: timer sweep, intake, pages, replay, ..., history, then the summary
#   scripts/bench.sh intake            # whistles/s beside the one-row ceiling and django-helpdesk's
#                                      # tickets/s (issue 22; --no-helpdesk leaves the latter out)
#   scripts/bench.sh sweep --open 100000 --burst-open 0 --no-write   # one, with its options
#   scripts/bench.sh partitions        # reads on the monthly partitioned event log and on one table
#   scripts/bench.sh replay            # the policy lab's replay of a county's year (issue 21)
#   scripts/bench.sh deliveries        # 10,000 SMS through a slow gateway beside the sweep
#   scripts/bench.sh import_org        # a county's organisation imported from its files (issue 17)
#   scripts/bench.sh sizes             # bytes per case in each table and index (docs/scaling.md)
#   scripts/bench.sh history           # a megacity's history (issue 22): the timer burst and the
#                                      # pages over WHISTLE_BENCH_HISTORY cases (20,000,000: about
#                                      # 70 GB and one to two hours of seeding, kept for the next
#                                      # run), then the pages at 20,000 for their query counts
#
# DATABASE_URL names a PostgreSQL server and a database the benchmarks may empty and refill
# (default postgres://postgres@127.0.0.1:5432/whistle_bench; created when missing; each
# benchmark uses that name with its own suffix; intake's django-helpdesk side adds "_helpdesk" to
# its own, and installs django-helpdesk only into var/bench/helpdesk-venv). REDIS_URL (default
# redis://127.0.0.1:6379/14) is the Redis the servers use.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/whistle_bench}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "make bench needs PostgreSQL: DATABASE_URL=$DATABASE_URL" >&2; exit 2 ;;
esac
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/14}"
# The benchmark's own var dir: its cache, logs and secret key never touch the development ones.
export WHISTLE_VAR_DIR="${WHISTLE_BENCH_VAR_DIR:-$ROOT/var/bench}"
mkdir -p "$WHISTLE_VAR_DIR"

# The database of one benchmark: DATABASE_URL's name plus a suffix.
database_for() {
  local base="${DATABASE_URL%%\?*}" query=""
  [[ "$DATABASE_URL" == *\?* ]] && query="?${DATABASE_URL#*\?}"
  if [ "$1" = sweep ]; then echo "$DATABASE_URL"; else echo "${base}_$1${query}"; fi
}

run() {
  local name="$1"; shift
  echo
  echo "=== $name: $(date '+%Y-%m-%d %H:%M:%S'), load $(cut -d' ' -f1-3 /proc/loadavg)"
  DATABASE_URL="$(database_for "$name")" "$PY" -m "bench.$name" "$@"
}

# The history: one database seeded once (or kept), the sweep's burst over it, then its pages;
# the pages at 20,000 cases last, as they seed over it (bench.pages keeps the largest first).
history() {
  local cases="${WHISTLE_BENCH_HISTORY:-20000000}" url
  url="$(database_for history)"
  echo
  echo "=== history of $cases cases: $(date '+%Y-%m-%d %H:%M:%S'), load $(cut -d' ' -f1-3 /proc/loadavg)"
  # The sweep takes every option given; the pages only those all benchmarks take.
  local common=() arg
  for arg in "$@"; do
    case "$arg" in --no-write|--force) common+=("$arg") ;; esac
  done
  DATABASE_URL="$url" "$PY" -m bench.sweep --history "$cases" "$@" &&
    DATABASE_URL="$url" "$PY" -m bench.pages --history --reuse --sizes "$cases" 20000 "${common[@]}"
}

if [ $# -gt 0 ]; then
  case "$1" in
    sweep|intake|pages|partitions|replay|deliveries|import_org|sizes|summary) name="$1"; shift; run "$name" "$@"; exit ;;
    history) shift; history "$@"; exit ;;
    *) echo "usage: $0 [sweep|intake|pages|partitions|replay|deliveries|import_org|sizes|history|summary [options]]" >&2; exit 2 ;;
  esac
fi

rm -f "$WHISTLE_VAR_DIR/results.json"
status=0
for name in sweep intake pages partitions replay deliveries import_org; do
  run "$name" || status=1
done
history || status=1
run summary || status=1
exit $status
