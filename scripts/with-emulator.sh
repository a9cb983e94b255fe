#!/usr/bin/env bash
# Runs a command with a gcloud emulator: the common body of
# with-firestore-emulator.sh and with-pubsub-emulator.sh, which call it as
#   with-emulator.sh NAME ENV_VAR FIRST_PORT COMPONENT DEBIAN_PACKAGE -- gcloud ARGS... -- CMD...
# When ENV_VAR is already set, CMD runs against that emulator; otherwise
# this script starts one on a free loopback port (FIRST_PORT..+100), in its
# own process group, waits until it answers, exports ENV_VAR, runs CMD and
# always stops the whole group (gcloud and its Java child).
set -euo pipefail

name=$1 var=$2 first=$3 component=$4 package=$5
shift 5
[ "$1" = "--" ] && shift
start=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do start+=("$1"); shift; done
[ "$#" -gt 0 ] && shift  # the second --
me="with-$name-emulator"

if [ -n "${!var:-}" ]; then
  exec "$@"
fi

if ! command -v gcloud >/dev/null 2>&1; then
  echo "$me: gcloud not found. Install the emulator" >&2
  echo "  (gcloud components install $component, or the Debian package" >&2
  echo "  $package) and Java 17+, or set $var." >&2
  exit 1
fi

free_port() {
  local p
  for p in $(seq "$first" $((first + 100))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}

port=$(free_port) || { echo "$me: no free port in $first-$((first + 100))" >&2; exit 1; }
log=$(mktemp -t "$name-emulator.XXXXXX.log")
# setsid: the emulator (gcloud + java) gets its own process group, so the
# whole group can be stopped at the end.
setsid "${start[@]}" --host-port="127.0.0.1:$port" >"$log" 2>&1 &
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
    echo "$me: the emulator exited early:" >&2
    cat "$log" >&2
    exit 1
  fi
  if [ "$i" = 120 ]; then
    echo "$me: the emulator did not answer within 60 s:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.5
done

export "$var=127.0.0.1:$port"
echo "$me: emulator on ${!var}" >&2
set +e
"$@"
rc=$?
set -e
exit "$rc"
