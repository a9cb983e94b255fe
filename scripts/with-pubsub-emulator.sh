#!/usr/bin/env bash
# Runs a command with a Pub/Sub emulator (the event bus tests need one).
# When PUBSUB_EMULATOR_HOST is already set, the command runs against that
# emulator; otherwise this script starts one on a free loopback port, waits
# until it answers, exports PUBSUB_EMULATOR_HOST, runs the command, and
# always stops the emulator (scripts/with-emulator.sh does the work). Chain
# it with its sibling: scripts/with-firestore-emulator.sh scripts/with-pubsub-emulator.sh CMD...
exec "$(dirname "$0")/with-emulator.sh" pubsub PUBSUB_EMULATOR_HOST 8381 \
  pubsub-emulator google-cloud-cli-pubsub-emulator \
  -- gcloud beta emulators pubsub start -- "$@"
