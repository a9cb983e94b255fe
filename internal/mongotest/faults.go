package mongotest

import (
	"time"
)

// faultState holds the injected faults (guarded by Server.fmu).
type faultState struct {
	fp          failPoints
	latency     time.Duration
	refuseUntil time.Time
}

// CloseOnCommand makes the server close the connection instead of answering
// the next n commands named name, as a failCommand fail point with
// closeConnection does, with one difference: writes (insert, update, delete,
// findAndModify) are applied first and only their reply is lost, as when a
// network fails after the commit. Other commands are not run at all.
func (s *Server) CloseOnCommand(name string, n int) {
	if n <= 0 {
		return
	}
	s.addHelperFailure(&failSpec{
		mode:       fpMode{on: true, times: int64(n)},
		commands:   []string{name},
		closeConn:  true,
		afterWrite: writeCommands[name],
	})
}

// FailCommand makes the server answer the next n commands named name with
// error code, as a failCommand fail point {mode: {times: n}, data:
// {failCommands: [name], errorCode: code}} does: the command is not run.
// The error stands for one met while the command runs, so it looks as a
// MongoDB 7.0 primary's would: without labels the reply carries the labels
// the server attaches to that error (RetryableWriteError on a retryable
// write, ResumableChangeStreamError on a change stream's aggregate or
// getMore when the code is resumable, NonResumableChangeStreamError for 280
// and 286), and a failed getMore's cursor is killed. Labels given replace
// the server's (failCommand's errorLabels). Unlike this helper, the
// failCommand fail point fails a getMore before it takes its cursor, which
// then stays open and gets no ResumableChangeStreamError, as on a real
// server. A "not primary" or
// "shutting down" code also bumps the topology version, as a real step-down
// does, so the driver's monitor learns at once that the node is back.
func (s *Server) FailCommand(name string, n int, code int32, labels ...string) {
	if n <= 0 {
		return
	}
	f := &failSpec{
		mode:     fpMode{on: true, times: int64(n)},
		commands: []string{name},
		code:     code,
		hasCode:  true,
		// as an error met while the command runs: a getMore took its cursor
		killCursor: name == "getMore",
	}
	if len(labels) > 0 {
		f.labels, f.hasLabels = append([]string(nil), labels...), true
	}
	s.addHelperFailure(f)
}

func (s *Server) addHelperFailure(f *failSpec) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.fp.helpers = append(s.faults.fp.helpers, f)
}

// SetLatency delays every reply by d (0 turns it off).
func (s *Server) SetLatency(d time.Duration) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.latency = d
}

// RefuseConnections closes every new connection right after accepting it,
// for the next d. Open connections are not affected (see DropConnections).
func (s *Server) RefuseConnections(d time.Duration) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.faults.refuseUntil = time.Now().Add(d)
}

func (s *Server) latency() time.Duration {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.faults.latency
}

func (s *Server) refusing() bool {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return time.Now().Before(s.faults.refuseUntil)
}
