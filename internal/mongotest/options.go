package mongotest

import "github.com/rs/zerolog"

// Option configures a Server.
type Option func(*config)

type config struct {
	addr    string
	history int
	log     zerolog.Logger
	auth    bool // access control on (WithUser)
	users   []userSpec
}

const defaultHistory = 100000

func defaultConfig() config {
	return config{addr: "127.0.0.1:0", history: defaultHistory, log: zerolog.Nop()}
}

// WithAddr sets the listen address (default 127.0.0.1:0, a free port).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithHistory sets how many change events are retained (the oplog window).
// Resuming a change stream from before the oldest retained event fails with
// ChangeStreamHistoryLost (286). n < 1 means 1.
func WithHistory(n int) Option {
	return func(c *config) {
		if n < 1 {
			n = 1
		}
		c.history = n
	}
}

// WithLogger sets the logger (default: no logging). The server adds
// component=mongotest.
func WithLogger(l zerolog.Logger) Option { return func(c *config) { c.log = l } }
