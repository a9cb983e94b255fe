// Command demo is `make demo`: the watcher at work on the project's MongoDB
// test server and the Firestore emulator (see package internal/demo).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/projectwatcher/watcher/internal/demo"
)

func main() {
	exitAfter := flag.Bool("exit-after-script", false, "stop everything after the scripted part (for a check that the demo works)")
	mongoAddr := flag.String("mongo-addr", "127.0.0.1:27017", "listen address of the MongoDB test server (taken: any free port)")
	httpAddr := flag.String("http-addr", "127.0.0.1:8080", "the watcher's http.addr (taken: any free port)")
	flag.Parse()

	wd, err := os.Getwd()
	if err == nil {
		wd, err = demo.FindRoot(wd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err = demo.Run(ctx, demo.Options{Root: wd, MongoAddr: *mongoAddr, HTTPAddr: *httpAddr, Out: os.Stdout, Stay: !*exitAfter})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
