#!/usr/bin/env bash
# Run a command and start it again whenever it exits on its own; stop it, and stop, when told.
#
#   scripts/respawn.sh celery -A whistle worker --concurrency=2
#
# The Procfile runs the Celery worker through this so that `make run` keeps its timers going
# when the worker dies: Celery 5.7's worker can exit ("Unrecoverable error") when Redis goes
# away while it holds unacknowledged messages (docs/reliability.md). In production the same
# job belongs to the service manager (systemd `Restart=always`).
#
# A stop request (TERM or INT, e.g. Ctrl-C under honcho) must end everything within the
# process manager's 5 s, or it is killed: the command's whole process group gets TERM, after
# RESPAWN_GRACE seconds (default 2) QUIT, which is Celery's cold shutdown (its unacknowledged
# tasks go back to the queue; the database is the source of truth, so nothing is lost), and
# one second later KILL.
set -u

grace="${RESPAWN_GRACE:-2}"
child=""
stopping=0

# The command runs in a process group of its own (setsid), so that a stop reaches its
# children too (Celery's pool processes), and signals are not ignored in it as they are in a
# background job of a script.
start_command() {
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" &
  else
    "$@" &
  fi
  child=$!
}

signal_command() {
  kill "-$1" -- "-$child" 2>/dev/null || kill "-$1" "$child" 2>/dev/null
}

stop_command() {
  signal_command TERM
  (
    sleep "$grace"
    signal_command QUIT
    sleep 1
    signal_command KILL
  ) &
  local escalation=$!
  # `wait` returns early when another stop request arrives: wait until the command is gone.
  for _ in 1 2 3 4 5; do
    wait "$child" 2>/dev/null
    kill -0 "$child" 2>/dev/null || break
  done
  kill "$escalation" 2>/dev/null
  wait "$escalation" 2>/dev/null  # gone before we are: it is a copy of this script
  # What is left of its process group (a child that outlived it) goes too.
  kill -KILL -- "-$child" 2>/dev/null
}

on_signal() {
  stopping=1
}
trap on_signal TERM INT

while :; do
  start_command "$@"
  wait "$child"
  status=$?
  if [ "$stopping" = 1 ]; then
    stop_command
    exit 0
  fi
  echo "$(date '+%Y-%m-%d %H:%M:%S') respawn: '$1' exited with status $status; starting it again in 2 s" >&2
  sleep 2 &
  wait $!
  [ "$stopping" = 1 ] && exit 0
done
