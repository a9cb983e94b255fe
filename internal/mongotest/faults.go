package mongotest

import (
	"time"
)

// faultState holds the injected faults (guarded by Server.fmu).
type faultState struct {
	closeOn     map[string]int
	failOn      map[string][]failSpec
	latency     time.Duration
	refuseUntil time.Time
}

type failSpec struct {
	code   int32
	labels []string
}

// CloseOnCommand makes the server close the connection instead of answering
// the next n commands named name. Writes (insert, update, delete,
// findAndModify) are applied first and only their reply is lost, as when a
// network fails after the commit; other commands are not run at all.
func (s *Server) CloseOnCommand(name string, n int) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.faults.closeOn == nil {
		s.faults.closeOn = map[string]int{}
	}
	s.faults.closeOn[name] += n
}

// FailCommand makes the server answer the next n commands named name with
// error code (codeName from MongoDB's list when known) and the given error
// labels (for example "ResumableChangeStreamError", "RetryableWriteError").
// The command is not run. A "not primary" or "shutting down" code also bumps
// the topology version, as a real step-down does, so the driver's monitor
// learns at once that the node is back.
func (s *Server) FailCommand(name string, n int, code int32, labels ...string) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.faults.failOn == nil {
		s.faults.failOn = map[string][]failSpec{}
	}
	for range n {
		s.faults.failOn[name] = append(s.faults.failOn[name], failSpec{code: code, labels: append([]string(nil), labels...)})
	}
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

// takeFault consumes the fault, if any, for the next command named name.
func (s *Server) takeFault(name string) (closeConn bool, fail *failSpec) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if n := s.faults.closeOn[name]; n > 0 {
		s.faults.closeOn[name] = n - 1
		return true, nil
	}
	if q := s.faults.failOn[name]; len(q) > 0 {
		f := q[0]
		s.faults.failOn[name] = q[1:]
		return false, &f
	}
	return false, nil
}

// stateChangeCodes are the "not primary" and "node is recovering" codes of
// the server discovery and monitoring spec.
var stateChangeCodes = map[int32]bool{
	91: true, 189: true, 10107: true, 11600: true, 11602: true,
	13435: true, 13436: true, 10058: true,
}

// codeNames maps error codes to MongoDB's code names (for injected errors).
var codeNames = map[int32]string{
	1: "InternalError", 2: "BadValue", 6: "HostUnreachable", 7: "HostNotFound",
	9: "FailedToParse", 11: "UserNotFound", 13: "Unauthorized", 14: "TypeMismatch",
	20: "IllegalOperation", 26: "NamespaceNotFound", 43: "CursorNotFound",
	48: "NamespaceExists", 50: "MaxTimeMSExpired", 59: "CommandNotFound",
	72: "InvalidOptions", 85: "IndexOptionsConflict", 86: "IndexKeySpecsConflict",
	89: "NetworkTimeout", 91: "ShutdownInProgress", 112: "WriteConflict",
	133: "FailedToSatisfyReadPreference", 134: "ReadConcernMajorityNotAvailableYet",
	150: "StaleEpoch", 189: "PrimarySteppedDown", 234: "RetryChangeStream",
	251: "NoSuchTransaction", 260: "InvalidResumeToken", 262: "ExceededTimeLimit",
	280: "ChangeStreamFatalError", 286: "ChangeStreamHistoryLost",
	9001: "SocketException", 10058: "LegacyNotPrimary", 10107: "NotWritablePrimary",
	11000: "DuplicateKey", 11600: "InterruptedAtShutdown",
	11602: "InterruptedDueToReplStateChange", 13388: "StaleConfig",
	13435: "NotPrimaryNoSecondaryOk", 13436: "NotPrimaryOrSecondary",
	63: "StaleShardVersion",
}

func codeName(code int32) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return "Location" + itoa(int64(code))
}
