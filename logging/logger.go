// Package logging builds the daemon's zerolog logger from config.Log and
// keeps secrets (the MongoDB password) out of what is logged.
package logging

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/rs/zerolog"
)

// New builds the root logger writing to w: JSON lines by default, or a
// human-readable console format ("console"), at cfg.Level. It has no
// component field; every part adds its own:
// log.With().Str("component", "sync").Logger().
func New(cfg config.Log, w io.Writer) (zerolog.Logger, error) {
	level, err := parseLevel(cfg.Level)
	if err != nil {
		return zerolog.Nop(), err
	}
	switch cfg.Format {
	case "", "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339, NoColor: !isTerminal(w)}
	default:
		return zerolog.Nop(), fmt.Errorf("logging: unknown log format %q (json | console)", cfg.Format)
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}

func parseLevel(s string) (zerolog.Level, error) {
	if s == "" {
		return zerolog.InfoLevel, nil
	}
	level, err := zerolog.ParseLevel(s)
	if err != nil || level == zerolog.NoLevel {
		return zerolog.NoLevel, fmt.Errorf("logging: unknown log level %q", s)
	}
	return level, nil
}

// isTerminal reports whether w is a character device (colors are then fine).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
