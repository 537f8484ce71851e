#!/usr/bin/env bash
# Run a command and start it again whenever it exits on its own; stop it, and stop, when told.
#
#   scripts/respawn.sh celery -A whistle worker --concurrency=2
#
# The Procfile runs the Celery worker through this so that `make run` keeps its timers going
# when the worker dies: Celery 5.7's worker can exit ("Unrecoverable error") when Redis goes
# away while it holds unacknowledged messages (docs/reliability.md). In production the same
# job belongs to the service manager (systemd `Restart=always`).
set -u

child=""
stopping=0
on_signal() {
  stopping=1
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
}
trap on_signal TERM INT

while :; do
  "$@" &
  child=$!
  wait "$child"
  status=$?
  if [ "$stopping" = 1 ]; then
    # `wait` returns as soon as a trapped signal arrives: let the command finish stopping.
    wait "$child" 2>/dev/null
    exit 0
  fi
  echo "$(date '+%Y-%m-%d %H:%M:%S') respawn: '$1' exited with status $status; starting it again in 2 s" >&2
  sleep 2
  [ "$stopping" = 1 ] && exit 0
done
