package watcher

import (
	"errors"
	"fmt"
	"slices"

	"github.com/projectwatcher/watcher/bsonvalue"
	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Derive turns one raw change into the event the Firestore side applies
// (docs/ARCHITECTURE.md, "Derivation rules"). fields are the configured source
// paths (sync.fields[].source), dotted paths into the project document.
// ok is false when the change needs no work (an insert, an update that
// touches no copied field). Derive does no I/O.
//
// Errors: ErrInvalidID and ErrMalformedChange (wrapped) concern this event
// only; a *FatalError (drop, rename, dropDatabase, invalidate) or
// ErrUnknownOperation means the stream must stop.
func Derive(ch event.Change, fields []string) (event.Event, bool, error) {
	switch ch.Op {
	case "delete":
		return deriveDelete(ch)
	case "update":
		return deriveUpdate(ch, fields)
	case "replace":
		return deriveReplace(ch, fields)
	case "insert":
		return event.Event{}, false, nil
	case "drop", "rename", "dropDatabase", "invalidate":
		return event.Event{}, false, &FatalError{
			Op:          ch.Op,
			Namespace:   ch.Namespace,
			To:          ch.To,
			Token:       ch.Token,
			ClusterTime: ch.ClusterTime,
		}
	}
	return event.Event{}, false, fmt.Errorf("%w: %q", ErrUnknownOperation, ch.Op)
}

func newEvent(ch event.Change, kind event.Kind, id string, raw bson.RawValue) event.Event {
	return event.Event{
		Kind:        kind,
		ProjectID:   id,
		DocumentID:  raw,
		Op:          ch.Op,
		Token:       ch.Token,
		ClusterTime: ch.ClusterTime,
		WallTime:    ch.WallTime,
	}
}

func deriveDelete(ch event.Change) (event.Event, bool, error) {
	id, raw, err := projectID(ch.DocumentKey)
	if err != nil {
		return event.Event{}, false, fmt.Errorf("derive delete: %w", err)
	}
	return newEvent(ch, event.ProjectDeleted, id, raw), true, nil
}

// projectID reads documentKey._id: an ObjectID becomes its lowercase hex, a
// non-empty string is used as is; anything else is ErrInvalidID.
func projectID(key bson.Raw) (string, bson.RawValue, error) {
	if len(key) == 0 {
		return "", bson.RawValue{}, fmt.Errorf("%w: no documentKey", event.ErrInvalidID)
	}
	if err := key.Validate(); err != nil {
		return "", bson.RawValue{}, fmt.Errorf("%w: documentKey: %w", event.ErrInvalidID, err)
	}
	v, err := key.LookupErr("_id")
	if err != nil {
		return "", bson.RawValue{}, fmt.Errorf("%w: documentKey has no _id", event.ErrInvalidID)
	}
	switch v.Type {
	case bson.TypeObjectID:
		oid, ok := v.ObjectIDOK()
		if !ok {
			return "", bson.RawValue{}, fmt.Errorf("%w: bad ObjectID", event.ErrInvalidID)
		}
		return oid.Hex(), v, nil
	case bson.TypeString:
		s, ok := v.StringValueOK()
		if !ok {
			return "", bson.RawValue{}, fmt.Errorf("%w: bad string", event.ErrInvalidID)
		}
		if s == "" {
			return "", bson.RawValue{}, fmt.Errorf("%w: empty string _id", event.ErrInvalidID)
		}
		return s, v, nil
	}
	return "", bson.RawValue{}, fmt.Errorf("%w: _id of BSON type %s (want ObjectID or string)", event.ErrInvalidID, v.Type)
}

func deriveReplace(ch event.Change, fields []string) (event.Event, bool, error) {
	if len(ch.FullDocument) == 0 {
		return event.Event{}, false, fmt.Errorf("derive replace: %w: no fullDocument", ErrMalformedChange)
	}
	if err := ch.FullDocument.Validate(); err != nil {
		return event.Event{}, false, fmt.Errorf("derive replace: %w: fullDocument: %w", ErrMalformedChange, err)
	}
	if len(fields) == 0 {
		return event.Event{}, false, nil
	}
	id, raw, err := projectID(ch.DocumentKey)
	if err != nil {
		return event.Event{}, false, fmt.Errorf("derive replace: %w", err)
	}
	ev := newEvent(ch, event.ProjectUpdated, id, raw)
	doc := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: ch.FullDocument}
	for _, f := range fields {
		v, found := bsonvalue.At(doc, f)
		if !found {
			ev.Unset = appendOnce(ev.Unset, f)
			continue
		}
		pv, err := copied(v)
		if err != nil {
			return invalidValue(ev, fields), false, fmt.Errorf("derive replace: field %q: %w", f, err)
		}
		if ev.Set == nil {
			ev.Set = make(map[string]any, len(fields))
		}
		ev.Set[f] = pv
	}
	return ev, true, nil
}

// fieldState is what an update did to one configured source path. Larger
// values win: a lookup (authoritative read) beats a value from the event.
type fieldState uint8

const (
	untouched fieldState = iota
	unset
	set
	lookup
)

type fieldResult struct {
	state fieldState
	value bson.RawValue // set only
}

// relation is how a changed path relates to a configured source path.
type relation uint8

const (
	unrelated  relation = iota
	same                // the changed path is the source path
	ancestor            // the changed path contains the source path
	descendant          // the changed path is inside the source path
)

func deriveUpdate(ch event.Change, fields []string) (event.Event, bool, error) {
	if len(fields) == 0 {
		return event.Event{}, false, nil
	}
	if err := validateUpdate(ch); err != nil {
		return event.Event{}, false, err
	}
	paths, err := parseDisambiguated(ch.DisambiguatedPaths)
	if err != nil {
		return event.Event{}, false, fmt.Errorf("derive update: %w", err)
	}
	m := &fieldMarks{fields: fields, paths: paths, results: make([]fieldResult, len(fields))}
	if err := m.updated(ch.UpdatedFields); err != nil {
		return event.Event{}, false, err
	}
	m.removed(ch.RemovedFields)
	if err := m.truncated(ch.TruncatedArrays); err != nil {
		return event.Event{}, false, err
	}
	if !m.touched {
		return event.Event{}, false, nil
	}
	id, raw, err := projectID(ch.DocumentKey)
	if err != nil {
		return event.Event{}, false, fmt.Errorf("derive update: %w", err)
	}
	ev := newEvent(ch, event.ProjectUpdated, id, raw)
	if err := m.fill(&ev); err != nil {
		return invalidValue(ev, m.touchedFields()), false, err
	}
	return ev, true, nil
}

// validateUpdate checks that the raw parts of an update are valid BSON.
func validateUpdate(ch event.Change) error {
	for _, part := range [...]struct {
		name string
		raw  bson.Raw
	}{
		{"updatedFields", ch.UpdatedFields},
		{"disambiguatedPaths", ch.DisambiguatedPaths},
		{"truncatedArrays", ch.TruncatedArrays},
	} {
		if len(part.raw) == 0 {
			continue
		}
		if err := part.raw.Validate(); err != nil {
			return fmt.Errorf("derive update: %w: %s: %w", ErrMalformedChange, part.name, err)
		}
	}
	return nil
}

// fieldMarks collects what an update did to each configured source path.
type fieldMarks struct {
	fields  []string
	paths   map[string][]string // disambiguatedPaths
	results []fieldResult
	touched bool
}

func (m *fieldMarks) mark(i int, st fieldState, v bson.RawValue) {
	if st > m.results[i].state {
		m.results[i] = fieldResult{state: st, value: v}
	}
	m.touched = true
}

// updated marks the paths of updatedFields: the same path or an ancestor
// carries the new value, a descendant needs a lookup.
func (m *fieldMarks) updated(raw bson.Raw) error {
	if len(raw) == 0 {
		return nil
	}
	elems, err := raw.Elements()
	if err != nil {
		return fmt.Errorf("derive update: %w: updatedFields: %w", ErrMalformedChange, err)
	}
	for _, el := range elems {
		key := el.Key()
		for i, f := range m.fields {
			switch rel, rest := relate(key, m.paths[key], f); rel {
			case same:
				m.mark(i, set, el.Value())
			case ancestor:
				if v, ok := bsonvalue.At(el.Value(), rest); ok {
					m.mark(i, set, v)
				} else {
					m.mark(i, unset, bson.RawValue{})
				}
			case descendant:
				m.mark(i, lookup, bson.RawValue{})
			}
		}
	}
	return nil
}

// removed marks the paths of removedFields.
func (m *fieldMarks) removed(keys []string) {
	for _, key := range keys {
		for i, f := range m.fields {
			switch rel, _ := relate(key, m.paths[key], f); rel {
			case same, ancestor:
				m.mark(i, unset, bson.RawValue{})
			case descendant:
				m.mark(i, lookup, bson.RawValue{})
			}
		}
	}
}

// truncated marks the paths of truncatedArrays: an array shrank; whatever
// the relation, the event does not carry the new value of the source path,
// so it is read.
func (m *fieldMarks) truncated(raw bson.Raw) error {
	if len(raw) == 0 {
		return nil
	}
	keys, err := truncatedFields(raw)
	if err != nil {
		return fmt.Errorf("derive update: %w", err)
	}
	for _, key := range keys {
		for i, f := range m.fields {
			if rel, _ := relate(key, m.paths[key], f); rel != unrelated {
				m.mark(i, lookup, bson.RawValue{})
			}
		}
	}
	return nil
}

// fill writes the marks into ev's Set, Unset and Lookup.
func (m *fieldMarks) fill(ev *event.Event) error {
	for i, f := range m.fields {
		r := m.results[i]
		switch r.state {
		case set:
			pv, err := copied(r.value)
			if err != nil {
				return fmt.Errorf("derive update: field %q: %w", f, err)
			}
			if ev.Set == nil {
				ev.Set = make(map[string]any, len(m.fields))
			}
			ev.Set[f] = pv
		case unset:
			ev.Unset = appendOnce(ev.Unset, f)
		case lookup:
			ev.Lookup = appendOnce(ev.Lookup, f)
		}
	}
	return nil
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// copied converts the value of a copied field (bsonvalue.Plain); a value
// Firestore cannot hold makes the change malformed.
func copied(v bson.RawValue) (any, error) {
	pv, err := bsonvalue.Plain(v)
	switch {
	case errors.Is(err, bsonvalue.ErrUnsupported) && v.Validate() == nil:
		return nil, fmt.Errorf("%w: %w", event.ErrInvalidValue, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrMalformedChange, err)
	}
	return pv, nil
}

// invalidValue is what is kept of an event a copied value of which cannot
// be written, for its dead letter: the project and the change, no values,
// and the source paths the change touched as lookups, so that a retry of
// the letter reads them again (it copies them once they can be written,
// and fails as invalid-value again while one still cannot).
func invalidValue(ev event.Event, touched []string) event.Event {
	ev.Set, ev.Unset, ev.Lookup = nil, nil, slices.Clone(touched)
	return ev
}

// touchedFields lists the configured source paths the update touched.
func (m *fieldMarks) touchedFields() []string {
	var out []string
	for i, f := range m.fields {
		if m.results[i].state != untouched {
			out = append(out, f)
		}
	}
	return out
}
