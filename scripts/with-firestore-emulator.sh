#!/usr/bin/env bash
# Runs a command with a Firestore emulator. When FIRESTORE_EMULATOR_HOST is
# already set, the command runs against that emulator; otherwise this script
# starts one on a free loopback port, waits until it answers, exports
# FIRESTORE_EMULATOR_HOST, runs the command, and always stops the emulator
# (scripts/with-emulator.sh does the work).
exec "$(dirname "$0")/with-emulator.sh" firestore FIRESTORE_EMULATOR_HOST 8181 \
  cloud-firestore-emulator google-cloud-cli-firestore-emulator \
  -- gcloud emulators firestore start -- "$@"
