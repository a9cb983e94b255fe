package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/projectwatcher/watcher/internal/clock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Defaults of the options.
const (
	DefaultLivenessWindow  = 30 * time.Second
	DefaultCheckTimeout    = 2 * time.Second
	DefaultShutdownTimeout = 5 * time.Second
)

// Server is the probes and metrics HTTP server.
type Server struct {
	addr            string
	gatherer        prometheus.Gatherer
	log             zerolog.Logger
	now             func() time.Time
	livenessWindow  time.Duration
	checkTimeout    time.Duration
	shutdownTimeout time.Duration

	started  time.Time
	lastBeat atomic.Int64 // unix nanoseconds; 0: no beat yet

	checksMu   sync.RWMutex
	checks     map[string]Check // readiness
	liveChecks map[string]Check // extra liveness
	ready      atomic.Int32     // last /readyz verdict, for logging transitions: 0 unknown, 1 ready, 2 not ready

	lnMu    sync.Mutex
	ln      net.Listener
	serving bool

	hooks statusHooks // /status and the /readyz role line (status.go)
	pprof bool        // serve /debug/pprof/
}

// Option configures New.
type Option func(*Server)

// WithPprof also serves Go's runtime profiles under /debug/pprof/
// (config http.pprof).
func WithPprof(on bool) Option {
	return func(s *Server) { s.pprof = on }
}

// WithLivenessWindow sets how long after the last Beat /healthz stays 200.
func WithLivenessWindow(d time.Duration) Option {
	return func(s *Server) { s.livenessWindow = d }
}

// WithCheckTimeout sets the timeout of each readiness check.
func WithCheckTimeout(d time.Duration) Option {
	return func(s *Server) { s.checkTimeout = d }
}

// WithShutdownTimeout bounds the graceful shutdown in Serve.
func WithShutdownTimeout(d time.Duration) Option {
	return func(s *Server) { s.shutdownTimeout = d }
}

// WithClock replaces the wall clock (tests).
func WithClock(c clock.Clock) Option {
	return func(s *Server) { s.now = clock.Or(c).Now }
}

// New returns a server for addr (host:port; ":0" picks a free port). g is
// exposed on /metrics; with a nil g, /metrics is not served. Non-positive
// durations in options fall back to the defaults.
func New(addr string, g prometheus.Gatherer, log zerolog.Logger, opts ...Option) *Server {
	s := &Server{
		addr:            addr,
		gatherer:        g,
		log:             log.With().Str("component", "health").Logger(),
		now:             time.Now,
		livenessWindow:  DefaultLivenessWindow,
		checkTimeout:    DefaultCheckTimeout,
		shutdownTimeout: DefaultShutdownTimeout,
		checks:          map[string]Check{},
		liveChecks:      map[string]Check{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.livenessWindow <= 0 {
		s.livenessWindow = DefaultLivenessWindow
	}
	if s.checkTimeout <= 0 {
		s.checkTimeout = DefaultCheckTimeout
	}
	if s.shutdownTimeout <= 0 {
		s.shutdownTimeout = DefaultShutdownTimeout
	}
	s.started = s.now()
	return s
}

// Handler returns the mux serving /healthz, /readyz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.HandleFunc("GET /status", s.handleStatus)
	if s.gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{
			ErrorLog:      promLogger{log: s.log},
			ErrorHandling: promhttp.ContinueOnError,
		}))
	}
	if s.pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// Listen binds the listener if it is not bound yet. Serve calls it; call it
// first to learn Addr before serving.
func (s *Server) Listen() error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("health: listen on %q: %w", s.addr, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound listener's address, or "" before Listen.
func (s *Server) Addr() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Serve listens (if Listen was not called) and serves until ctx is
// cancelled, then shuts down gracefully within the shutdown timeout. It
// returns nil after a clean shutdown. A Server serves once.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.lnMu.Lock()
	if s.serving {
		s.lnMu.Unlock()
		return errors.New("health: Serve called twice")
	}
	s.serving = true
	ln := s.ln
	s.lnMu.Unlock()

	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info().Str("addr", ln.Addr().String()).Msg("serving /healthz /readyz /metrics")

	select {
	case err := <-errc:
		return fmt.Errorf("health: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		closeErr := srv.Close()
		return fmt.Errorf("health: graceful shutdown: %w", errors.Join(err, closeErr))
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("health: serve on %s: %w", ln.Addr(), err)
	}
	s.log.Info().Msg("stopped")
	return nil
}

// promLogger adapts zerolog to promhttp's error log.
type promLogger struct{ log zerolog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error().Msg(fmt.Sprint(v...))
}
