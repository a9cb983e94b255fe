package mongotest

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// cmdError is a MongoDB command error ({ok: 0, code, codeName, errmsg}).
type cmdError struct {
	code     int32
	codeName string
	msg      string
	labels   []string
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
}

func (x *cmdCtx) get(key string) (any, bool) {
	for _, e := range x.cmd {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// handler runs one command. It returns the reply body without ok,
// $clusterTime and operationTime (added by the caller).
type handler func(s *Server, x *cmdCtx) (bson.D, error)

// handlers lists the supported commands.
var handlers = map[string]handler{
	"hello":            (*Server).cmdHello,
	"isMaster":         (*Server).cmdHello,
	"ismaster":         (*Server).cmdHello,
	"ping":             func(*Server, *cmdCtx) (bson.D, error) { return bson.D{}, nil },
	"buildInfo":        (*Server).cmdBuildInfo,
	"buildinfo":        (*Server).cmdBuildInfo,
	"endSessions":      func(*Server, *cmdCtx) (bson.D, error) { return bson.D{}, nil },
	"getParameter":     (*Server).cmdGetParameter,
	"insert":           (*Server).cmdInsert,
	"update":           (*Server).cmdUpdate,
	"delete":           (*Server).cmdDelete,
	"findAndModify":    (*Server).cmdFindAndModify,
	"findandmodify":    (*Server).cmdFindAndModify,
	"find":             (*Server).cmdFind,
	"count":            (*Server).cmdCount,
	"distinct":         (*Server).cmdDistinct,
	"aggregate":        (*Server).cmdAggregate,
	"getMore":          (*Server).cmdGetMore,
	"killCursors":      (*Server).cmdKillCursors,
	"create":           (*Server).cmdCreate,
	"drop":             (*Server).cmdDrop,
	"dropDatabase":     (*Server).cmdDropDatabase,
	"listCollections":  (*Server).cmdListCollections,
	"listDatabases":    (*Server).cmdListDatabases,
	"createIndexes":    (*Server).cmdCreateIndexes,
	"listIndexes":      (*Server).cmdListIndexes,
	"dropIndexes":      (*Server).cmdDropIndexes,
	"renameCollection": (*Server).cmdRenameCollection,
}

// writeCommands are applied even when CloseOnCommand drops their reply.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true,
}

// handle runs one request and returns the reply; keep is false when the
// connection must be closed instead of answering.
func (s *Server) handle(c *conn, req *request) (reply bson.D, keep bool) {
	name := ""
	if len(req.cmd) > 0 {
		name = req.cmd[0].Key
	}
	closeConn, fail := s.takeFault(name)
	if closeConn && !writeCommands[name] {
		s.log.Debug().Str("cmd", name).Msg("closing connection instead of answering (fault)")
		return nil, false
	}
	if fail != nil {
		s.log.Debug().Str("cmd", name).Int32("code", fail.code).Msg("failing command (fault)")
		e := &cmdError{code: fail.code, codeName: codeName(fail.code), msg: "failure injected by mongotest", labels: fail.labels}
		reply = s.errorReply(e)
		if stateChangeCodes[fail.code] {
			reply = append(reply, bson.E{Key: "topologyVersion", Value: s.bumpTopology()})
		}
	} else {
		reply = s.run(&cmdCtx{c: c, db: req.db, name: name, cmd: req.cmd})
		if ev := s.log.Trace(); ev.Enabled() {
			ev.Int32("conn", c.id).Str("cmd", fmt.Sprint(req.cmd)).Str("reply", fmt.Sprint(reply)).Msg("command")
		}
	}
	if closeConn {
		s.log.Debug().Str("cmd", name).Msg("write applied, closing connection instead of answering (fault)")
		return nil, false
	}
	return reply, true
}

func (s *Server) run(x *cmdCtx) bson.D {
	h, ok := handlers[x.name]
	if !ok {
		return s.errorReply(errf(59, "no such command: '%s'", x.name))
	}
	if _, tx := x.get("autocommit"); tx {
		return s.errorReply(errf(20, "mongotest does not support transactions"))
	}
	body, err := h(s, x)
	if err != nil {
		return s.errorReply(err)
	}
	if _, has := lookupKey(body, "ok"); !has {
		body = append(body, bson.E{Key: "ok", Value: 1.0})
	}
	return s.withClusterTime(body)
}

func (s *Server) errorReply(err error) bson.D {
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
	if len(ce.labels) > 0 {
		labels := bson.A{}
		for _, l := range ce.labels {
			labels = append(labels, l)
		}
		d = append(d, bson.E{Key: "errorLabels", Value: labels})
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
