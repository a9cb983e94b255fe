GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Extra flags for go test, e.g. make test TESTFLAGS='-run TestDaemon -v'.
TESTFLAGS ?=
# An execution count, not a duration: a duration races the fuzz coordinator's
# deadline in Go 1.26 (golang/go#75804) and fails spuriously on a loaded machine.
FUZZTIME ?= 10000x

.PHONY: all build bench conformance test test-in-env test-short fuzz vet fmt clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/watcher ./cmd/watcher

# Starts the Firestore emulator when FIRESTORE_EMULATOR_HOST is unset, runs
# the fuzz targets briefly, then every test with the race detector, and
# always stops the emulator it started.
test:
	./scripts/with-firestore-emulator.sh $(MAKE) --no-print-directory test-in-env

test-in-env:
	$(MAKE) --no-print-directory fuzz
	$(GO) test -race -count=1 -timeout 20m $(TESTFLAGS) ./...

test-short:
	./scripts/with-firestore-emulator.sh $(GO) test -race -short -count=1 $(TESTFLAGS) ./...

# Each fuzz target runs for FUZZTIME on top of its committed seed corpus.
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
		dir=$$(dirname $$f); \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "fuzz $$dir $$fn ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

# Measures the real watcher binary against a BulkWriter floor and a
# one-event-at-a-time baseline on the Firestore emulator (started when
# FIRESTORE_EMULATOR_HOST is unset); prints the table and writes
# bench/results/latest.md and latest.json. E.g. BENCHFLAGS='-scenarios S1 -repeats 1'.
BENCHFLAGS ?=
bench:
	./scripts/with-firestore-emulator.sh $(GO) run ./bench $(BENCHFLAGS)

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
