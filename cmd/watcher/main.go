// Command watcher keeps Firestore asset documents consistent with the
// MongoDB projects collection. main only wires: config, logger, signals and
// the parts; the logic lives in packages.
package main

import "os"

// Set at build time: go build -ldflags "-X main.version=1.2.3 -X main.commit=$(git rev-parse HEAD)".
// They are the only package-level variables: -ldflags -X needs them.
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}
