package mongotest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// replicaSetName is the set name the server reports in hello.
const replicaSetName = "rs0"

// Server is an in-process MongoDB wire-protocol server acting as the primary
// of a one-node replica set. It is safe for concurrent use.
type Server struct {
	cfg       config
	log       zerolog.Logger
	ln        net.Listener
	hostPort  string
	processID bson.ObjectID
	started   time.Time

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	// mu guards everything below (data, history, cursors, sessions, conns).
	mu         sync.Mutex
	dbs        map[string]*database
	clock      bson.Timestamp
	hist       history
	cursors    map[int64]*cursor
	retries    map[retryKey]bson.D
	conns      map[*conn]struct{}
	nextConnID int32
	// bypassValidation: the write command running skips document validation
	bypassValidation bool
	// sessions are the logical sessions seen ($listLocalSessions)
	sessions map[string]*session
	users    map[string]*user // by "db.name"
	// topology version counter, and a channel closed when it changes
	topoCounter int64
	topoChanged chan struct{}

	fmu    sync.Mutex // guards faults
	faults faultState
}

// Start starts a server listening on 127.0.0.1:0 (or the WithAddr address).
func Start(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("mongotest: listen %s: %w", cfg.addr, err)
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.log.With().Str("component", "mongotest").Logger(),
		ln:        ln,
		hostPort:  ln.Addr().String(),
		processID: bson.NewObjectID(),
		started:   time.Now(),
		done:      make(chan struct{}),
		dbs:       map[string]*database{},
		cursors:   map[int64]*cursor{},
		retries:   map[retryKey]bson.D{},
		conns:     map[*conn]struct{}{},
		sessions:  map[string]*session{},
		users:     map[string]*user{},
	}
	for _, u := range cfg.users {
		if err := s.createUserLocked(u.db, u.name, u.password, []string{mechSHA1, mechSHA256}); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("mongotest: user %s: %w", u.name, err)
		}
	}
	s.hist.notify = make(chan struct{})
	s.topoChanged = make(chan struct{})
	s.hist.max = cfg.history
	s.tickLocked()
	s.wg.Add(1)
	go s.acceptLoop()
	s.log.Info().Str("addr", s.hostPort).Msg("listening")
	return s, nil
}

// New starts a server for a test and closes it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("mongotest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("mongotest: close: %v", err)
		}
	})
	return s
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.hostPort }

// URI returns the connection string of the server.
func (s *Server) URI() string {
	return "mongodb://" + s.hostPort + "/?replicaSet=" + replicaSetName
}

// Close stops the server: it closes the listener and every connection, and
// wakes waiting hellos and getMores. It waits for every goroutine to end.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		if e := s.ln.Close(); e != nil && !errors.Is(e, net.ErrClosed) {
			err = fmt.Errorf("mongotest: close listener: %w", e)
		}
		s.closeConns()
		s.wg.Wait()
		s.log.Info().Msg("closed")
	})
	return err
}

func (s *Server) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// conn is one client connection. Its fields after nc and id are used only
// by the goroutine serving it.
type conn struct {
	nc net.Conn
	id int32
	// appName is the application name of the connection's handshake.
	appName string
	// user is the authenticated user ("db.name"), sasl the SCRAM
	// conversation in progress.
	user          string
	sasl          *scramConv
	saslSkipEmpty bool
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.closed() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Error().Err(err).Msg("accept")
			return
		}
		if s.refusing() {
			s.log.Debug().Msg("refusing connection (fault)")
			_ = nc.Close()
			continue
		}
		s.mu.Lock()
		if s.closed() {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.nextConnID++
		c := &conn{nc: nc, id: s.nextConnID}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		s.log.Debug().Int32("conn", c.id).Str("remote", nc.RemoteAddr().String()).Msg("connection accepted")
		go s.serve(c)
	}
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.nc.Close()
	}
}

// DropConnections closes every open client connection now (the server keeps
// accepting new ones).
func (s *Server) DropConnections() {
	s.log.Debug().Msg("dropping all connections (fault)")
	s.closeConns()
}

func (s *Server) serve(c *conn) {
	defer s.wg.Done()
	defer func() {
		_ = c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	br := bufio.NewReader(c.nc)
	var respID int32
	for {
		req, err := readRequest(br)
		if err != nil {
			if !s.closed() {
				s.log.Debug().Err(err).Int32("conn", c.id).Msg("connection ends")
			}
			return
		}
		reply, keep := s.handle(c, req)
		if !keep {
			return
		}
		if req.moreToCome {
			continue
		}
		if d := s.latency(); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return
			}
		}
		respID++
		out, err := encodeReply(req.requestID, respID, req.opCode, reply)
		if err != nil {
			s.log.Error().Err(err).Msg("encode reply")
			return
		}
		if _, err := c.nc.Write(out); err != nil {
			return
		}
	}
}
