package mongotest

import (
	"math/rand/v2"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Fail points as MongoDB's test commands configure them
// ({configureFailPoint: name, mode, data}). Two are implemented:
//
//   - failCommand: for the commands named in data.failCommands (optionally
//     only for the connections whose handshake named data.appName, or only
//     on data.namespace), before the command runs: block for blockTimeMS
//     (blockConnection), then close the connection without an answer
//     (closeConnection), or fail with errorCode (errorLabels, when given,
//     replace the labels the server would attach), or run the command and
//     attach writeConcernError to its reply.
//   - failGetMoreAfterCursorCheckout: a getMore fails with errorCode after
//     it took its cursor, which is then killed (labels are the server's).
//   - onPrimaryTransactionalWrite: a retryable write (insert, update,
//     delete, findAndModify with a txnNumber) is applied and then the
//     connection closes (closeConnection, true by default), or with
//     failBeforeCommitExceptionCode it is not applied and fails with that
//     code (the connection closing first unless closeConnection is false).
//
// The mode is "alwaysOn", "off", {times: n}, {skip: n} (let n matching
// commands pass, then always fail) or {activationProbability: p}. A mode
// counts only the commands the fail point matches, as the server does.

// fpMode is a fail point's activation mode.
type fpMode struct {
	on     bool
	always bool
	times  int64
	skip   int64
	prob   float64
}

// fire reports whether the fail point activates for one matching command,
// and counts it.
func (m *fpMode) fire() bool {
	switch {
	case !m.on:
		return false
	case m.skip > 0:
		m.skip--
		return false
	case m.prob > 0:
		return rand.Float64() < m.prob
	case m.always:
		return true
	case m.times > 0:
		m.times--
		if m.times == 0 {
			m.on = false
		}
		return true
	}
	return false
}

func parseMode(v any) (fpMode, error) {
	switch m := v.(type) {
	case string:
		switch m {
		case "alwaysOn":
			return fpMode{on: true, always: true}, nil
		case "off":
			return fpMode{}, nil
		}
	case bson.D:
		// as the server: times wins over skip, skip over activationProbability
		for _, key := range []string{"times", "skip", "activationProbability"} {
			v, ok := lookupKey(m, key)
			if !ok {
				continue
			}
			if key == "activationProbability" {
				p, ok := v.(float64)
				if !ok || p < 0 || p > 1 {
					return fpMode{}, errf(2, "activationProbability must be a number between 0 and 1")
				}
				return fpMode{on: p > 0, prob: p}, nil
			}
			n, ok := asInt64(v)
			if !ok || n < 0 {
				return fpMode{}, errf(2, "'%s' must be a non-negative number", key)
			}
			if key == "times" {
				return fpMode{on: n > 0, times: n}, nil
			}
			return fpMode{on: true, always: true, skip: n}, nil
		}
	}
	return fpMode{}, errf(2, "'mode' must be one of 'off', 'alwaysOn', {times: n}, {skip: n}, {activationProbability: p}")
}

// failSpec is one configured command failure: a failCommand fail point,
// failGetMoreAfterCursorCheckout, or one installed by the Go helpers
// (FailCommand, CloseOnCommand).
type failSpec struct {
	mode       fpMode
	commands   []string
	appName    string
	namespace  string
	code       int32
	hasCode    bool
	labels     []string
	hasLabels  bool // errorLabels given: they replace the server's labels
	closeConn  bool
	block      time.Duration
	wce        bson.D
	afterWrite bool // mongotest's CloseOnCommand: a write is applied before the connection closes
	beforeRun  bool // failCommand: the command has not started (a getMore has no cursor yet)
	killCursor bool // a getMore failing after it took its cursor kills it
	retryable  bool // only retryable writes (onPrimaryTransactionalWrite)
}

func (f *failSpec) matches(x *cmdCtx) bool {
	if !slices.Contains(f.commands, x.name) {
		return false
	}
	if f.appName != "" && f.appName != x.c.appName {
		return false
	}
	if f.namespace != "" && f.namespace != x.namespace() {
		return false
	}
	if f.retryable {
		// a retry of a write already applied runs nothing: no fail point
		_, hasTxn := x.get("txnNumber")
		_, inTxn := x.get("autocommit")
		return hasTxn && !inTxn && !x.retriedWrite
	}
	return true
}

// failPoints holds the configured fail points (guarded by Server.fmu).
type failPoints struct {
	failCommand *failSpec
	getMoreFail *failSpec
	txnWrite    *failSpec   // onPrimaryTransactionalWrite
	helpers     []*failSpec // FailCommand / CloseOnCommand, oldest first
}

// takeFailure returns the failure a fail point injects into command x, if
// any, and counts it: the failCommand fail point first, then
// failGetMoreAfterCursorCheckout, then the helpers' in the order they were
// installed.
func (s *Server) takeFailure(x *cmdCtx) *failSpec {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	fp := &s.faults.fp
	for _, f := range []*failSpec{fp.failCommand, fp.getMoreFail, fp.txnWrite} {
		if f != nil && f.matches(x) && f.mode.fire() {
			return f
		}
	}
	for i, f := range fp.helpers {
		if !f.matches(x) || !f.mode.fire() {
			continue
		}
		if !f.mode.on {
			fp.helpers = slices.Delete(fp.helpers, i, i+1)
		}
		return f
	}
	return nil
}

// cmdConfigureFailPoint is MongoDB's test command configureFailPoint.
func (s *Server) cmdConfigureFailPoint(x *cmdCtx) (bson.D, error) {
	if x.db != "admin" {
		return nil, errf(13, "configureFailPoint may only be run against the admin database.")
	}
	name, _ := x.cmd[0].Value.(string)
	mv, ok := x.get("mode")
	if !ok {
		return nil, errf(40414, "BSON field 'configureFailPoint.mode' is missing but a required field")
	}
	mode, err := parseMode(mv)
	if err != nil {
		return nil, err
	}
	data, err := x.optDoc("data")
	if err != nil {
		return nil, err
	}
	var spec *failSpec
	if mode.on {
		if spec, err = parseFailData(name, data); err != nil {
			return nil, err
		}
		spec.mode = mode
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	switch name {
	case "failCommand":
		s.faults.fp.failCommand = spec
	case "failGetMoreAfterCursorCheckout":
		s.faults.fp.getMoreFail = spec
	case "onPrimaryTransactionalWrite":
		s.faults.fp.txnWrite = spec
	default:
		return nil, errf(2, "mongotest does not implement the fail point '%s'", name)
	}
	s.log.Debug().Str("failPoint", name).Bool("on", mode.on).Msg("fail point configured")
	return bson.D{{Key: "count", Value: int32(0)}}, nil
}

func parseFailData(name string, data bson.D) (*failSpec, error) {
	if name == "onPrimaryTransactionalWrite" {
		return parseTxnWriteData(data)
	}
	f := &failSpec{}
	for _, e := range data {
		if err := f.setData(name, e); err != nil {
			return nil, err
		}
	}
	if f.block < 0 {
		return nil, errf(2, "blockConnection requires blockTimeMS")
	}
	if name == "failCommand" {
		if len(f.commands) == 0 {
			return nil, errf(2, "failCommand requires data.failCommands")
		}
		f.beforeRun = true
	}
	if name == "failGetMoreAfterCursorCheckout" {
		f.commands = []string{"getMore"}
		f.killCursor = true
		if !f.hasCode {
			f.code, f.hasCode = 1, true
		}
	}
	return f, nil
}

// setData reads one field of failCommand's (or
// failGetMoreAfterCursorCheckout's) data.
func (f *failSpec) setData(name string, e bson.E) error {
	var err error
	switch e.Key {
	case "failCommands":
		f.commands, err = stringList(e.Value, e.Key)
	case "errorCode":
		n, ok := asInt64(e.Value)
		if !ok {
			return errf(14, "'errorCode' must be a number")
		}
		f.code, f.hasCode = int32(n), true
	case "errorLabels":
		f.labels, err = stringList(e.Value, e.Key)
		f.hasLabels = true
	case "closeConnection":
		f.closeConn = asBool(e.Value)
	case "blockConnection":
		if !asBool(e.Value) {
			f.block = 0
		} else if f.block == 0 {
			f.block = -1 // blockTimeMS required
		}
	case "blockTimeMS":
		n, ok := asInt64(e.Value)
		if !ok || n < 0 {
			return errf(2, "'blockTimeMS' must be a non-negative number")
		}
		if n > 0 {
			f.block = time.Duration(n) * time.Millisecond
		}
	case "appName":
		f.appName, _ = e.Value.(string)
	case "namespace":
		f.namespace, _ = e.Value.(string)
	case "writeConcernError":
		d, ok := e.Value.(bson.D)
		if !ok {
			return errf(14, "'writeConcernError' must be a document")
		}
		f.wce = d
	case "failInternalCommands":
		// there are no internal clients here
	default:
		return errf(2, "mongotest does not implement '%s' of fail point %s", e.Key, name)
	}
	return err
}

// stringList reads an array of strings.
func stringList(v any, what string) ([]string, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, errf(14, "'%s' must be an array of strings", what)
	}
	out := make([]string, 0, len(arr))
	for _, el := range arr {
		str, ok := el.(string)
		if !ok {
			return nil, errf(14, "'%s' must be an array of strings", what)
		}
		out = append(out, str)
	}
	return out, nil
}

// parseTxnWriteData reads onPrimaryTransactionalWrite's data.
func parseTxnWriteData(data bson.D) (*failSpec, error) {
	f := &failSpec{
		commands:   []string{"insert", "update", "delete", "findAndModify", "findandmodify"},
		retryable:  true,
		closeConn:  true,
		afterWrite: true,
	}
	for _, e := range data {
		switch e.Key {
		case "closeConnection":
			f.closeConn = asBool(e.Value)
		case "failBeforeCommitExceptionCode":
			n, ok := asInt64(e.Value)
			if !ok {
				return nil, errf(14, "'failBeforeCommitExceptionCode' must be a number")
			}
			f.code, f.hasCode, f.afterWrite = int32(n), true, false
		default:
			return nil, errf(2, "mongotest does not implement '%s' of fail point onPrimaryTransactionalWrite", e.Key)
		}
	}
	return f, nil
}
