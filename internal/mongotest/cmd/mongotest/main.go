// Command mongotest runs the in-process MongoDB test server standalone, for
// manual trials: go run ./internal/mongotest/cmd/mongotest -addr 127.0.0.1:27017
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/rs/zerolog"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:27017", "listen address")
	history := flag.Int("history", 100000, "retained change events (the oplog window)")
	verbose := flag.Bool("v", false, "debug logging")
	user := flag.String("user", "", "require authentication (SCRAM) and create this user in admin")
	password := flag.String("password", "", "the password of -user")
	flag.Parse()

	level := zerolog.InfoLevel
	if *verbose {
		level = zerolog.DebugLevel
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(level).With().Timestamp().Logger() // the server adds component=mongotest

	opts := []mongotest.Option{mongotest.WithAddr(*addr), mongotest.WithHistory(*history), mongotest.WithLogger(log)}
	if *user != "" {
		opts = append(opts, mongotest.WithUser(*user, *password))
	}
	srv, err := mongotest.Start(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(srv.URI())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if err := srv.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
