GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Extra flags for go test, e.g. make test TESTFLAGS='-run TestDaemon -v'.
TESTFLAGS ?=
# An execution count, not a duration: a duration races the fuzz coordinator's
# deadline in Go 1.26 (golang/go#75804) and fails spuriously on a loaded machine.
FUZZTIME ?= 10000x

.PHONY: all build bench bench-bus bench-quick conformance demo test test-in-env test-short fuzz vet fmt clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/watcher ./cmd/watcher

# Starts the Firestore emulator when FIRESTORE_EMULATOR_HOST is unset (and
# the Pub/Sub emulator when PUBSUB_EMULATOR_HOST is unset), runs the fuzz
# targets briefly, then every test with the race detector, and always stops
# the emulators it started.
test:
	./scripts/with-firestore-emulator.sh ./scripts/with-pubsub-emulator.sh $(MAKE) --no-print-directory test-in-env

test-in-env:
	$(MAKE) --no-print-directory fuzz
	$(GO) test -race -count=1 -timeout 20m $(TESTFLAGS) ./...

test-short:
	./scripts/with-firestore-emulator.sh ./scripts/with-pubsub-emulator.sh $(GO) test -race -short -count=1 $(TESTFLAGS) ./...

# Each fuzz target runs for FUZZTIME on top of its committed seed corpus.
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
		dir=$$(dirname $$f); \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "fuzz $$dir $$fn ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

# Measures the real watcher binary against two floors (BulkWriters over the
# known documents; the least discovery, then BulkWriters) and a
# one-event-at-a-time baseline on the Firestore emulator (started when
# FIRESTORE_EMULATOR_HOST is unset), directly and under the production model
# (every client through a 10 ms one-way latency proxy); prints the tables and
# writes bench/results/latest.md, latest.json and profiles/.
# E.g. BENCHFLAGS='-scenarios S1 -repeats 1'; `go run ./bench -h` lists the knobs.
BENCHFLAGS ?=
bench:
	./scripts/with-firestore-emulator.sh $(GO) run ./bench -command 'make bench' $(BENCHFLAGS)

# S1 and S6 through the event bus (bus.mode publish) with 1, 2 and 4 worker
# processes, beside direct mode, directly on the emulators (the Pub/Sub one
# started when PUBSUB_EMULATOR_HOST is unset); results in bench/results/bus/.
bench-bus:
	./scripts/with-firestore-emulator.sh ./scripts/with-pubsub-emulator.sh $(GO) run ./bench -command 'make bench-bus' \
		-bus -scenarios S1,S6 -models direct -variants watcher -repeats 1 -probe=false -out bench/results/bus $(BENCHFLAGS)

# One repeat of S1-S3 and S6 under both models, shorter loads, no probe;
# results in bench/results/quick/ (latest.md stays the full run's).
bench-quick:
	./scripts/with-firestore-emulator.sh $(GO) run ./bench -command 'make bench-quick' \
		-repeats 1 -scenarios S1,S2,S3,S6 -s3-duration 30s -s3-warmup 10s -s6-duration 30s \
		-baseline-budget 15s -probe=false -out bench/results/quick $(BENCHFLAGS)

# See it work on one machine, without Docker: starts the MongoDB test server
# (internal/mongotest), the Firestore emulator (when FIRESTORE_EMULATOR_HOST is
# unset) and the watcher on internal/demo/config.yaml; seeds three projects,
# deletes one and renames one, showing the counts before and after; then keeps
# everything running until Ctrl-C. DEMOFLAGS=-exit-after-script stops after the
# scripted part; -h lists the flags.
DEMOFLAGS ?=
demo:
	$(GO) build -o bin/demo ./internal/demo/cmd/demo
	./scripts/with-firestore-emulator.sh bin/demo $(DEMOFLAGS)

# MongoDB's own specification tests (change streams, CRUD, retryable writes,
# the driver's change-stream prose tests) against internal/mongotest: fetches
# the Go driver's module through the module proxy, builds its spec runners,
# checks every result against internal/mongotest/conformance.expect and
# writes internal/mongotest/CONFORMANCE.md. E.g. CONFORMANCE_ONLY=change-streams.
conformance:
	GO=$(GO) ./scripts/conformance.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

clean:
	rm -rf bin
