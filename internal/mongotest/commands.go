package mongotest

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// cmdError is a MongoDB command error ({ok: 0, code, codeName, errmsg}).
type cmdError struct {
	code     int32
	codeName string
	msg      string
	// labels replace the labels the server would attach when labelsSet
	// (a fail point's errorLabels).
	labels    []string
	labelsSet bool
	// extra fields of the reply (for example a duplicate key's keyPattern)
	extra bson.D
}

func (e *cmdError) Error() string { return e.codeName + ": " + e.msg }

func errf(code int32, format string, args ...any) *cmdError {
	return &cmdError{code: code, codeName: codeName(code), msg: fmt.Sprintf(format, args...)}
}

// cmdCtx is one command being run.
type cmdCtx struct {
	c    *conn
	db   string
	name string
	cmd  bson.D
	// changeStream: an aggregate opening a change stream, or a getMore on a
	// change stream cursor (decides the ResumableChangeStreamError label).
	changeStream bool
	// retriedWrite: a retryable write whose (lsid, txnNumber) already ran
	retriedWrite bool
}

func (x *cmdCtx) get(key string) (any, bool) {
	for _, e := range x.cmd {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// namespace is the "db.collection" the command names (db alone when the
// first field is not a collection name).
func (x *cmdCtx) namespace() string {
	if len(x.cmd) > 0 {
		if coll, ok := x.cmd[0].Value.(string); ok && coll != "" {
			return x.db + "." + coll
		}
	}
	return x.db
}

// handler runs one command. It returns the reply body without ok,
// $clusterTime and operationTime (added by the caller).
type handler func(s *Server, x *cmdCtx) (bson.D, error)

// handlers lists the supported commands.
var handlers = map[string]handler{
	"hello":              (*Server).cmdHello,
	"isMaster":           (*Server).cmdHello,
	"ismaster":           (*Server).cmdHello,
	"ping":               func(*Server, *cmdCtx) (bson.D, error) { return bson.D{}, nil },
	"buildInfo":          (*Server).cmdBuildInfo,
	"buildinfo":          (*Server).cmdBuildInfo,
	"endSessions":        func(*Server, *cmdCtx) (bson.D, error) { return bson.D{}, nil },
	"killAllSessions":    (*Server).cmdKillAllSessions,
	"getParameter":       (*Server).cmdGetParameter,
	"configureFailPoint": (*Server).cmdConfigureFailPoint,
	"insert":             (*Server).cmdInsert,
	"update":             (*Server).cmdUpdate,
	"delete":             (*Server).cmdDelete,
	"findAndModify":      (*Server).cmdFindAndModify,
	"findandmodify":      (*Server).cmdFindAndModify,
	"find":               (*Server).cmdFind,
	"count":              (*Server).cmdCount,
	"distinct":           (*Server).cmdDistinct,
	"aggregate":          (*Server).cmdAggregate,
	"getMore":            (*Server).cmdGetMore,
	"killCursors":        (*Server).cmdKillCursors,
	"create":             (*Server).cmdCreate,
	"collMod":            (*Server).cmdCollMod,
	"drop":               (*Server).cmdDrop,
	"dropDatabase":       (*Server).cmdDropDatabase,
	"listCollections":    (*Server).cmdListCollections,
	"listDatabases":      (*Server).cmdListDatabases,
	"createIndexes":      (*Server).cmdCreateIndexes,
	"listIndexes":        (*Server).cmdListIndexes,
	"dropIndexes":        (*Server).cmdDropIndexes,
	"renameCollection":   (*Server).cmdRenameCollection,
	"createUser":         (*Server).cmdCreateUser,
	"dropUser":           (*Server).cmdDropUser,
	"saslStart":          (*Server).cmdSaslStart,
	"saslContinue":       (*Server).cmdSaslContinue,
	"logout":             (*Server).cmdLogout,
}

// writeCommands are applied even when CloseOnCommand drops their reply.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true,
}

// handle runs one request and returns the reply; keep is false when the
// connection must be closed instead of answering.
func (s *Server) handle(c *conn, req *request) (reply bson.D, keep bool) {
	x := &cmdCtx{c: c, db: req.db, cmd: req.cmd}
	if len(req.cmd) > 0 {
		x.name = req.cmd[0].Key
	}
	s.noteClient(x)
	if err := s.checkAuth(x); err != nil {
		return s.errorReply(x, err), true
	}
	s.noteSession(x)
	x.changeStream = s.isChangeStreamCmd(x)
	x.retriedWrite = s.isRetriedWrite(x)
	f := s.takeFailure(x)
	if f != nil {
		if f.block > 0 && !s.pause(f.block) {
			return nil, false
		}
		if f.closeConn && !f.afterWrite {
			s.log.Debug().Str("cmd", x.name).Msg("closing connection instead of answering (fail point)")
			return nil, false
		}
		if f.hasCode {
			return s.injectedError(x, f), true
		}
	}
	reply = s.run(x)
	if ev := s.log.Trace(); ev.Enabled() {
		if sensitive(x) { // passwords, SCRAM proofs: the name only
			ev.Int32("conn", c.id).Str("cmd", x.name).Msg("command (redacted)")
		} else {
			ev.Int32("conn", c.id).Str("cmd", fmt.Sprint(req.cmd)).Str("reply", fmt.Sprint(reply)).Msg("command")
		}
	}
	if f != nil && f.wce != nil {
		reply = s.withWriteConcernError(x, reply, f)
	}
	if f != nil && f.closeConn {
		s.log.Debug().Str("cmd", x.name).Msg("write applied, closing connection instead of answering (fail point)")
		return nil, false
	}
	return reply, true
}

// sensitive reports whether a command carries credentials, which are never
// logged.
func sensitive(x *cmdCtx) bool {
	switch x.name {
	case "createUser", "updateUser", "saslStart", "saslContinue", "authenticate":
		return true
	}
	_, spec := x.get("speculativeAuthenticate")
	return spec
}

// pause waits d (a fail point's blockTimeMS); false when the server closed.
func (s *Server) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// injectedError is the reply to a command a fail point fails. The
// failCommand fail point fails a command before it runs, so a getMore has no
// cursor yet and gets no ResumableChangeStreamError label from the server;
// the Go helpers (FailCommand) stand for an error met while the command
// runs: a getMore's cursor is then killed, as the server does.
func (s *Server) injectedError(x *cmdCtx, f *failSpec) bson.D {
	if f.beforeRun && x.name == "getMore" {
		x.changeStream = false
	}
	if f.killCursor {
		s.killCursorOf(x)
	}
	msg := "Failing command via 'failCommand' failpoint"
	s.log.Debug().Str("cmd", x.name).Int32("code", f.code).Msg("failing command (fail point)")
	e := &cmdError{code: f.code, codeName: codeName(f.code), msg: msg, labels: f.labels, labelsSet: f.hasLabels}
	reply := s.errorReply(x, e)
	if stateChangeCodes[f.code] {
		reply = append(reply, bson.E{Key: "topologyVersion", Value: s.bumpTopology()})
	}
	return reply
}

// withWriteConcernError attaches a fail point's writeConcernError to a
// successful reply, with the labels the server gives it.
func (s *Server) withWriteConcernError(x *cmdCtx, reply bson.D, f *failSpec) bson.D {
	if v, _ := lookupKey(reply, "ok"); v != 1.0 {
		return reply
	}
	out := make(bson.D, 0, len(reply)+2)
	for _, e := range reply {
		if e.Key == "$clusterTime" {
			wc, _ := lookupKey(f.wce, "code")
			code, _ := asInt64(wc)
			labels := f.labels
			if !f.hasLabels {
				labels = errorLabels(x, 0, int32(code))
			}
			out = append(out, bson.E{Key: "writeConcernError", Value: f.wce})
			if len(labels) > 0 {
				out = append(out, bson.E{Key: "errorLabels", Value: toArray(labels)})
			}
		}
		out = append(out, e)
	}
	return out
}

func toArray(ss []string) bson.A {
	a := make(bson.A, 0, len(ss))
	for _, v := range ss {
		a = append(a, v)
	}
	return a
}

func (s *Server) run(x *cmdCtx) bson.D {
	h, ok := handlers[x.name]
	if !ok {
		return s.errorReply(x, errf(59, "no such command: '%s'", x.name))
	}
	if _, tx := x.get("autocommit"); tx {
		return s.errorReply(x, errf(20, "mongotest does not support transactions"))
	}
	body, err := h(s, x)
	if err != nil {
		return s.errorReply(x, err)
	}
	if _, has := lookupKey(body, "ok"); !has {
		body = append(body, bson.E{Key: "ok", Value: 1.0})
	}
	return s.withClusterTime(body)
}

// errorReply is the reply to a failed command, with the error labels the
// server attaches (see errorLabels).
func (s *Server) errorReply(x *cmdCtx, err error) bson.D {
	var ce *cmdError
	var me *mquery.Error
	switch {
	case errors.As(err, &ce):
	case errors.As(err, &me):
		ce = &cmdError{code: me.Code, codeName: me.CodeName, msg: me.Msg}
	default:
		ce = errf(1, "%v", err)
	}
	if ce.codeName == "" {
		ce.codeName = codeName(ce.code)
	}
	d := bson.D{
		{Key: "ok", Value: 0.0},
		{Key: "errmsg", Value: ce.msg},
		{Key: "code", Value: ce.code},
		{Key: "codeName", Value: ce.codeName},
	}
	d = append(d, ce.extra...)
	labels := ce.labels
	if !ce.labelsSet && x != nil {
		labels = errorLabels(x, ce.code, 0)
	}
	if len(labels) > 0 {
		d = append(d, bson.E{Key: "errorLabels", Value: toArray(labels)})
	}
	return s.withClusterTime(d)
}

func (s *Server) withClusterTime(d bson.D) bson.D {
	s.mu.Lock()
	ts := s.clock
	s.mu.Unlock()
	return append(d,
		bson.E{Key: "$clusterTime", Value: bson.D{
			{Key: "clusterTime", Value: ts},
			{Key: "signature", Value: bson.D{
				{Key: "hash", Value: bson.Binary{Subtype: 0, Data: make([]byte, 20)}},
				{Key: "keyId", Value: int64(0)},
			}},
		}},
		bson.E{Key: "operationTime", Value: ts},
	)
}

func lookupKey(d bson.D, key string) (any, bool) {
	for _, e := range d {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// asInt64 converts a BSON number.
func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), true
	case int:
		return int64(n), true
	}
	return 0, false
}

// asBool reads a BSON boolean-ish value (numbers: non-zero is true).
func asBool(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case nil:
		return false
	}
	if n, ok := asInt64(v); ok {
		return n != 0
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// optInt reads an optional integer field.
func (x *cmdCtx) optInt(key string) (int64, bool, error) {
	v, ok := x.get(key)
	if !ok || v == nil {
		return 0, false, nil
	}
	n, ok := asInt64(v)
	if !ok {
		return 0, false, errf(14, "BSON field '%s.%s' is the wrong type '%T', expected a number", x.name, key, v)
	}
	return n, true, nil
}

// optDoc reads an optional document field.
func (x *cmdCtx) optDoc(key string) (bson.D, error) {
	v, ok := x.get(key)
	if !ok || v == nil {
		return nil, nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return nil, errf(14, "BSON field '%s.%s' is the wrong type, expected an object", x.name, key)
	}
	return d, nil
}

// collName reads the collection name: the value of the first field.
func (x *cmdCtx) collName() (string, error) {
	v := x.cmd[0].Value
	s, ok := v.(string)
	if !ok || s == "" {
		return "", errf(73, "collection name has invalid type or is empty")
	}
	return s, nil
}

// rejectUnsupported fails for options whose meaning the server does not
// implement: ignoring them would be a silent wrong answer.
func (x *cmdCtx) rejectUnsupported(keys ...string) error {
	for _, k := range keys {
		if v, ok := x.get(k); ok && v != nil {
			return errf(2, "mongotest does not support option '%s' of %s", k, x.name)
		}
	}
	return nil
}
