package source

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	// sourceBatchSize bounds the events per server reply (memory per batch).
	sourceBatchSize = 500
	// sourceMaxAwait is how long a getMore waits for new events: Next
	// returns at least this often, so the main loop heartbeats and saves
	// idle post-batch tokens.
	sourceMaxAwait = time.Second

	codeChangeStreamFatalError  = 280
	codeChangeStreamHistoryLost = 286
)

// Source reads the change stream of the projects collection. It is used by
// one goroutine at a time.
type Source struct {
	coll    *mongo.Collection
	startAt string
	log     zerolog.Logger
	cs      *mongo.ChangeStream
}

// NewSource returns a Source over coll. startAt ("now" or an RFC 3339 time)
// is where a stream without a stored token starts.
func NewSource(coll *mongo.Collection, startAt string, log zerolog.Logger) *Source {
	return &Source{
		coll:    coll,
		startAt: startAt,
		log:     log.With().Str("component", "watcher.source").Logger(),
	}
}

// Open opens the change stream: after token when it is non-nil, else at
// startAt. A stream already open is closed first. The stream asks for
// showExpandedEvents so that update events carry disambiguatedPaths
// (MongoDB 6.1+; expanded event types are filtered out by Pipeline).
func (s *Source) Open(ctx context.Context, token bson.Raw) error {
	if s.cs != nil {
		if err := s.Close(ctx); err != nil {
			s.log.Warn().Err(err).Msg("closing the previous change stream")
		}
	}
	opts := options.ChangeStream().
		SetBatchSize(sourceBatchSize).
		SetMaxAwaitTime(sourceMaxAwait).
		SetShowExpandedEvents(true)
	ns := s.coll.Database().Name() + "." + s.coll.Name()
	ev := s.log.Info().Str("ns", ns)
	switch {
	case len(token) > 0:
		opts.SetResumeAfter(token)
		ev = ev.Str("resumeAfter", token.String())
	case s.startAt == "" || s.startAt == "now":
		ev = ev.Str("startAt", "now")
	default:
		ts, err := startTimestamp(s.startAt)
		if err != nil {
			return err
		}
		opts.SetStartAtOperationTime(&ts)
		ev = ev.Str("startAt", s.startAt)
	}
	cs, err := s.coll.Watch(ctx, pipeline(), opts)
	if err != nil {
		return fmt.Errorf("open change stream on %s: %w", ns, historyLost(err))
	}
	s.cs = cs
	ev.Msg("change stream open")
	return nil
}

// startTimestamp turns an RFC 3339 startAt into an operation time.
func startTimestamp(startAt string) (bson.Timestamp, error) {
	t, err := time.Parse(time.RFC3339, startAt)
	if err != nil {
		return bson.Timestamp{}, fmt.Errorf("startAt %q: want \"now\" or an RFC 3339 time: %w", startAt, err)
	}
	sec := t.Unix()
	if sec < 0 || sec > math.MaxUint32 {
		return bson.Timestamp{}, fmt.Errorf("startAt %q is outside the range of a MongoDB timestamp", startAt)
	}
	return bson.Timestamp{T: uint32(sec)}, nil
}

// Next returns the next change. ok is false, with a nil error, when nothing
// arrived within the server's wait (about a second): the caller can then
// save ResumeToken and call Next again. An event that cannot be decoded is
// an error wrapping ErrUndecodableEvent: never skipped silently. After any
// error the stream is unusable (the driver keeps failing): Close it and Open
// again from the last saved token. Transient network errors are retried
// inside the driver (one automatic resume) before they surface here.
func (s *Source) Next(ctx context.Context) (event.Change, bool, error) {
	if s.cs == nil {
		return event.Change{}, false, errors.New("change stream is not open")
	}
	if s.cs.TryNext(ctx) {
		ch, err := decodeChange(s.cs.Current)
		if err != nil {
			return event.Change{}, false, err
		}
		return ch, true, nil
	}
	if err := s.cs.Err(); err != nil {
		return event.Change{}, false, fmt.Errorf("read change stream: %w", historyLost(err))
	}
	if s.cs.ID() == 0 {
		return event.Change{}, false, ErrStreamClosed
	}
	return event.Change{}, false, nil
}

// ResumeToken is the position after the last change returned by Next, or
// the server's post-batch token when the batch is exhausted (it advances
// while the collection is idle). nil before anything was read.
func (s *Source) ResumeToken() bson.Raw {
	if s.cs == nil {
		return nil
	}
	return cloneRaw(s.cs.ResumeToken())
}

// Close closes the change stream (a no-op when it is not open).
func (s *Source) Close(ctx context.Context) error {
	if s.cs == nil {
		return nil
	}
	cs := s.cs
	s.cs = nil
	if err := cs.Close(ctx); err != nil {
		return fmt.Errorf("close change stream: %w", err)
	}
	return nil
}

// isHistoryLost reports whether err says the stream cannot resume because
// the server no longer has the history at the requested position (codes 286
// ChangeStreamHistoryLost and 280 ChangeStreamFatalError).
func isHistoryLost(err error) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	return se.HasErrorCode(codeChangeStreamHistoryLost) || se.HasErrorCode(codeChangeStreamFatalError)
}

// historyLost wraps err in event.ErrHistoryLost when it is the server's
// answer for a position outside the history.
func historyLost(err error) error {
	if isHistoryLost(err) {
		return fmt.Errorf("%w: %w", event.ErrHistoryLost, err)
	}
	return err
}

func cloneRaw(r bson.Raw) bson.Raw {
	if r == nil {
		return nil
	}
	return append(bson.Raw(nil), r...)
}

// decodeChange reads one change stream document (as shaped by Pipeline)
// into a Change. The Change owns its bytes (the driver reuses its buffers).
func decodeChange(doc bson.Raw) (event.Change, error) {
	raw := cloneRaw(doc)
	fail := func(err error) (event.Change, error) {
		tok := "none"
		if v, lerr := raw.LookupErr("_id"); lerr == nil {
			tok = v.String()
		}
		return event.Change{}, fmt.Errorf("%w (token %s): %w", ErrUndecodableEvent, tok, err)
	}
	if err := raw.Validate(); err != nil {
		return fail(fmt.Errorf("invalid BSON: %w", err))
	}
	var ch event.Change
	elems, err := raw.Elements()
	if err != nil {
		return fail(err)
	}
	for _, el := range elems {
		if err := decodeField(&ch, el.Key(), el.Value()); err != nil {
			return fail(err)
		}
	}
	if len(ch.Token) == 0 {
		return fail(errors.New("no _id (resume token)"))
	}
	if ch.Op == "" {
		return fail(errors.New("no operationType"))
	}
	return ch, nil
}

// decodeField reads one top-level field of a change stream document into
// ch; fields the pipeline does not keep are ignored.
func decodeField(ch *event.Change, key string, v bson.RawValue) error {
	var ok bool
	switch key {
	case "_id":
		ch.Token, ok = v.DocumentOK()
		return wantType(ok, "_id", v, "a document")
	case "operationType":
		ch.Op, ok = v.StringValueOK()
		return wantType(ok, "operationType", v, "a string")
	case "clusterTime":
		var t, i uint32
		t, i, ok = v.TimestampOK()
		ch.ClusterTime = bson.Timestamp{T: t, I: i}
		return wantType(ok, "clusterTime", v, "a timestamp")
	case "wallTime":
		var ms int64
		ms, ok = v.DateTimeOK()
		ch.WallTime = time.UnixMilli(ms).UTC()
		return wantType(ok, "wallTime", v, "a date")
	case "documentKey":
		ch.DocumentKey, ok = v.DocumentOK()
		return wantType(ok, "documentKey", v, "a document")
	case "ns", "to":
		ns, err := decodeNamespace(v)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if key == "ns" {
			ch.Namespace = ns
		} else {
			ch.To = ns
		}
	case "updateDescription":
		if err := decodeUpdateDescription(v, ch); err != nil {
			return fmt.Errorf("updateDescription: %w", err)
		}
	case "fullDocument":
		switch v.Type {
		case bson.TypeNull:
		case bson.TypeEmbeddedDocument:
			ch.FullDocument = v.Document()
		default:
			return fmt.Errorf("fullDocument is %s, not a document", v.Type)
		}
	}
	return nil
}

// wantType is the error for a field of the wrong BSON type (nil when ok).
func wantType(ok bool, field string, v bson.RawValue, want string) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%s is %s, not %s", field, v.Type, want)
}

func decodeNamespace(v bson.RawValue) (event.Namespace, error) {
	d, ok := v.DocumentOK()
	if !ok {
		return event.Namespace{}, fmt.Errorf("%s, not a document", v.Type)
	}
	var ns event.Namespace
	if db, err := d.LookupErr("db"); err == nil {
		s, ok := db.StringValueOK()
		if !ok {
			return event.Namespace{}, fmt.Errorf("db is %s, not a string", db.Type)
		}
		ns.DB = s
	}
	if coll, err := d.LookupErr("coll"); err == nil {
		s, ok := coll.StringValueOK()
		if !ok {
			return event.Namespace{}, fmt.Errorf("coll is %s, not a string", coll.Type)
		}
		ns.Coll = s
	}
	return ns, nil
}

func decodeUpdateDescription(v bson.RawValue, ch *event.Change) error {
	if v.Type == bson.TypeNull {
		return nil
	}
	d, ok := v.DocumentOK()
	if !ok {
		return fmt.Errorf("%s, not a document", v.Type)
	}
	elems, err := d.Elements()
	if err != nil {
		return err
	}
	for _, el := range elems {
		f := el.Value()
		switch el.Key() {
		case "updatedFields":
			u, ok := f.DocumentOK()
			if !ok {
				return fmt.Errorf("updatedFields is %s, not a document", f.Type)
			}
			ch.UpdatedFields = u
		case "removedFields":
			arr, ok := f.ArrayOK()
			if !ok {
				return fmt.Errorf("removedFields is %s, not an array", f.Type)
			}
			vals, err := arr.Values()
			if err != nil {
				return fmt.Errorf("removedFields: %w", err)
			}
			for _, x := range vals {
				s, ok := x.StringValueOK()
				if !ok {
					return fmt.Errorf("removedFields holds a %s", x.Type)
				}
				ch.RemovedFields = append(ch.RemovedFields, s)
			}
		case "truncatedArrays":
			arr, ok := f.ArrayOK()
			if !ok {
				return fmt.Errorf("truncatedArrays is %s, not an array", f.Type)
			}
			if vals, _ := arr.Values(); len(vals) > 0 {
				ch.TruncatedArrays = bson.Raw(arr)
			}
		case "disambiguatedPaths":
			p, ok := f.DocumentOK()
			if !ok {
				return fmt.Errorf("disambiguatedPaths is %s, not a document", f.Type)
			}
			if elems, _ := p.Elements(); len(elems) > 0 {
				ch.DisambiguatedPaths = p
			}
		}
	}
	return nil
}
