#!/usr/bin/env bash
# Runs a command with a Pub/Sub emulator (the event bus tests need one).
# When PUBSUB_EMULATOR_HOST is already set, the command runs against that
# emulator; otherwise this script starts one on a free loopback port, waits
# until it answers, exports PUBSUB_EMULATOR_HOST, runs the command, and
# always stops the emulator. The sibling of with-firestore-emulator.sh;
# chain them: scripts/with-firestore-emulator.sh scripts/with-pubsub-emulator.sh CMD...
set -euo pipefail

if [ -n "${PUBSUB_EMULATOR_HOST:-}" ]; then
  exec "$@"
fi

if ! command -v gcloud >/dev/null 2>&1; then
  echo "with-pubsub-emulator: gcloud not found. Install the Pub/Sub emulator" >&2
  echo "  (gcloud components install pubsub-emulator, or the Debian package" >&2
  echo "  google-cloud-cli-pubsub-emulator) and Java 17+, or set PUBSUB_EMULATOR_HOST." >&2
  exit 1
fi

free_port() {
  local p
  for p in $(seq 8381 8481); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}

port=$(free_port) || { echo "with-pubsub-emulator: no free port in 8381-8481" >&2; exit 1; }
log=$(mktemp -t pubsub-emulator.XXXXXX.log)
# setsid: the emulator (gcloud + java) gets its own process group, so the
# whole group can be stopped at the end.
setsid gcloud beta emulators pubsub start --host-port="127.0.0.1:$port" >"$log" 2>&1 &
emu_pid=$!

stop_emulator() {
  kill -TERM -- "-$emu_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$emu_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$emu_pid" 2>/dev/null || true
  rm -f "$log"
}
trap stop_emulator EXIT

for i in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$emu_pid" 2>/dev/null; then
    echo "with-pubsub-emulator: the emulator exited early:" >&2
    cat "$log" >&2
    exit 1
  fi
  if [ "$i" = 120 ]; then
    echo "with-pubsub-emulator: the emulator did not answer within 60 s:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.5
done

export PUBSUB_EMULATOR_HOST="127.0.0.1:$port"
echo "with-pubsub-emulator: Pub/Sub emulator on $PUBSUB_EMULATOR_HOST" >&2
set +e
"$@"
rc=$?
set -e
exit "$rc"
