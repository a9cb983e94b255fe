#!/usr/bin/env bash
# make conformance: runs MongoDB's own specification tests against
# internal/mongotest. It fetches the official Go driver's module through the
# Go module proxy (like any dependency: nothing of it is copied into this
# repository), copies it to a scratch directory, builds the driver's two spec
# runners (internal/integration/unified and internal/integration), and runs
# the change-streams, CRUD and retryable-writes spec files and the
# change-stream prose tests, each file against its own fresh mongotest
# server, each test bounded in time. It prints a table per file, writes
# internal/mongotest/CONFORMANCE.md, and fails when a result breaks
# internal/mongotest/conformance.expect or a test is not listed there.
#
# Environment: CONFORMANCE_JOBS (files at once, default 2),
# CONFORMANCE_TEST_TIMEOUT (longest a test may run, default 20s),
# CONFORMANCE_ONLY (a regular expression: run only the matching files, for
# trials; the table is not written then), CONFORMANCE_WORK (scratch
# directory to use and keep; default a temporary one, removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

# The one place the driver version is pinned. v2.1.0 is the last version
# whose module still ships the specification test files (testdata/) next to
# the runners; from v2.2.0 they live in a git submodule, which module
# archives omit.
DRIVER_MODULE="go.mongodb.org/mongo-driver/v2"
DRIVER_VERSION="v2.1.0"

GO="${GO:-go}"
repo="$(pwd)"
if [ -n "${CONFORMANCE_WORK:-}" ]; then
  work="$CONFORMANCE_WORK"
  mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")"
  trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
fi

echo "conformance: fetching $DRIVER_MODULE@$DRIVER_VERSION through the module proxy"
# Outside this module, so that go.mod and go.sum stay as they are.
moddir="$(cd "$work" && GOFLAGS= GOWORK=off "$GO" mod download -json "$DRIVER_MODULE@$DRIVER_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$moddir" ] || [ ! -d "$moddir/testdata" ]; then
  echo "conformance: FAILED: $DRIVER_MODULE@$DRIVER_VERSION has no testdata directory (module dir: '$moddir')" >&2
  exit 1
fi

driver="$work/driver-$DRIVER_VERSION"
if [ ! -d "$driver" ]; then
  cp -R "$moddir" "$driver.tmp"
  chmod -R u+w "$driver.tmp" # the module cache is read-only
  mv "$driver.tmp" "$driver"
fi

echo "conformance: building the driver's spec runners"
(cd "$driver" &&
  GOFLAGS= GOWORK=off "$GO" test -c -o "$work/unified.test" ./internal/integration/unified &&
  GOFLAGS= GOWORK=off "$GO" test -c -o "$work/integration.test" ./internal/integration)
"$GO" build -o "$work/conformance" ./internal/mongotest/cmd/conformance

args=(
  -driver "$driver" -unified "$work/unified.test" -integration "$work/integration.test"
  -expect "$repo/internal/mongotest/conformance.expect"
  -out "$repo/internal/mongotest/CONFORMANCE.md"
  -jobs "${CONFORMANCE_JOBS:-2}"
  -test-timeout "${CONFORMANCE_TEST_TIMEOUT:-20s}"
)
if [ -n "${CONFORMANCE_ONLY:-}" ]; then
  args+=(-only "$CONFORMANCE_ONLY")
fi
echo "conformance: running (to update the expectations: $work/conformance ${args[*]} -record FILE, with CONFORMANCE_WORK=$work set to keep the build)"
"$work/conformance" "${args[@]}"
