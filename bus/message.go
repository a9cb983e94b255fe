package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/projectwatcher/watcher/bsonvalue"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Version is the schema version of the message bodies this watcher writes
// and reads (docs/EVENTS.md).
const Version = 1

// Values of the idType field: the BSON type of the project's _id.
const (
	IDTypeObjectID = "objectId"
	IDTypeString   = "string"
)

// Attribute names of a published message (for subscription filters).
const (
	AttrType      = "type"
	AttrProjectID = "projectId"
	AttrEventID   = "eventId"
	AttrVersion   = "version"
)

// ErrInvalidMessage marks a message body this worker cannot read (not
// JSON, another schema version, a missing field).
var ErrInvalidMessage = errors.New("invalid event message")

// wire is the JSON body of a message: docs/EVENTS.md describes every field.
type wire struct {
	Version     int             `json:"version"`
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	ProjectID   string          `json:"projectId"`
	IDType      string          `json:"idType"`
	Op          string          `json:"op,omitempty"`
	Set         json.RawMessage `json:"set,omitempty"` // canonical Extended JSON: source path → value
	Unset       []string        `json:"unset,omitempty"`
	ClusterTime wireTimestamp   `json:"clusterTime"`
	WallTime    *time.Time      `json:"wallTime,omitempty"`
}

type wireTimestamp struct {
	T uint32 `json:"t"`
	I uint32 `json:"i"`
}

// Message is a decoded event message.
type Message struct {
	// ID is the event's id: derived from its resume token, the same for
	// every publish of the event (a replay publishes it again), and the id
	// of its dead letter.
	ID    string
	Event event.Event
}

// EventID is the id of the event whose resume token is token: the id its
// dead letter has too (deadletter.ID).
func EventID(token bson.Raw) string { return deadletter.ID(token) }

// Encode renders ev as a message body and its attributes. An event without
// a resume token, a project id or an ObjectID or string _id cannot be
// published; a copied value that would not come back exactly is an error
// wrapping event.ErrInvalidValue.
func Encode(ev event.Event) (data []byte, attrs map[string]string, err error) {
	w, err := toWire(ev)
	if err != nil {
		return nil, nil, err
	}
	if data, err = json.Marshal(w); err != nil {
		return nil, nil, fmt.Errorf("bus: encode the event of project %s: %w", ev.ProjectID, err)
	}
	back, err := Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("bus: the event of project %s does not decode back: %w: %w", ev.ProjectID, event.ErrInvalidValue, err)
	}
	if !reflect.DeepEqual(back.Event.Set, nonEmpty(ev.Set)) {
		return nil, nil, fmt.Errorf("bus: %w: a copied value of project %s does not survive Extended JSON (a field name starting with \"$\"?)",
			event.ErrInvalidValue, ev.ProjectID)
	}
	attrs = map[string]string{
		AttrType: w.Type, AttrProjectID: w.ProjectID, AttrEventID: w.ID, AttrVersion: fmt.Sprint(Version),
	}
	return data, attrs, nil
}

func nonEmpty(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func toWire(ev event.Event) (wire, error) {
	if len(ev.Token) == 0 {
		return wire{}, errors.New("bus: the event has no resume token (only the change stream's events are published)")
	}
	if strings.TrimSpace(ev.ProjectID) == "" {
		return wire{}, fmt.Errorf("bus: %w", event.ErrEmptyProjectID)
	}
	if ev.Kind != event.ProjectDeleted && ev.Kind != event.ProjectUpdated {
		return wire{}, fmt.Errorf("bus: unknown event kind %d", int(ev.Kind))
	}
	w := wire{
		Version: Version, ID: EventID(ev.Token), Type: ev.Kind.String(), ProjectID: ev.ProjectID, Op: ev.Op,
		Unset: ev.Unset, ClusterTime: wireTimestamp{T: ev.ClusterTime.T, I: ev.ClusterTime.I},
	}
	switch ev.DocumentID.Type {
	case bson.TypeObjectID:
		w.IDType = IDTypeObjectID
	case bson.TypeString:
		w.IDType = IDTypeString
	default:
		return wire{}, fmt.Errorf("bus: %w: _id of type %s", event.ErrInvalidID, ev.DocumentID.Type)
	}
	if !ev.WallTime.IsZero() {
		t := ev.WallTime.UTC()
		w.WallTime = &t
	}
	if len(ev.Set) > 0 {
		set, err := setJSON(ev.Set)
		if err != nil {
			return wire{}, fmt.Errorf("bus: %w: project %s: %w", event.ErrInvalidValue, ev.ProjectID, err)
		}
		w.Set = set
	}
	return w, nil
}

// setJSON renders set as one canonical Extended JSON document, its paths
// sorted.
func setJSON(set map[string]any) (json.RawMessage, error) {
	paths := make([]string, 0, len(set))
	for p := range set {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	doc := make(bson.D, 0, len(paths))
	for _, p := range paths {
		doc = append(doc, bson.E{Key: p, Value: set[p]})
	}
	return bson.MarshalExtJSON(doc, true, false)
}

// Decode reads a message body. Every failure wraps ErrInvalidMessage.
func Decode(data []byte) (Message, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if w.Version != Version {
		return Message{}, fmt.Errorf("%w: schema version %d (this watcher reads %d)", ErrInvalidMessage, w.Version, Version)
	}
	ev := event.Event{ProjectID: w.ProjectID, Op: w.Op, Unset: w.Unset,
		ClusterTime: bson.Timestamp{T: w.ClusterTime.T, I: w.ClusterTime.I}}
	switch w.Type {
	case event.ProjectDeleted.String():
		ev.Kind = event.ProjectDeleted
	case event.ProjectUpdated.String():
		ev.Kind = event.ProjectUpdated
	default:
		return Message{}, fmt.Errorf("%w: unknown type %q", ErrInvalidMessage, w.Type)
	}
	if strings.TrimSpace(w.ID) == "" || strings.TrimSpace(w.ProjectID) == "" {
		return Message{}, fmt.Errorf("%w: no id or projectId", ErrInvalidMessage)
	}
	id, err := documentID(w.IDType, w.ProjectID)
	if err != nil {
		return Message{}, err
	}
	ev.DocumentID = id
	if w.WallTime != nil {
		ev.WallTime = w.WallTime.UTC()
	}
	if len(w.Set) > 0 {
		if ev.Set, err = decodeSet(w.Set); err != nil {
			return Message{}, err
		}
	}
	return Message{ID: w.ID, Event: ev}, nil
}

// documentID rebuilds the project's raw _id from its text and type.
func documentID(idType, projectID string) (bson.RawValue, error) {
	var v any
	switch idType {
	case IDTypeObjectID:
		oid, err := bson.ObjectIDFromHex(projectID)
		if err != nil {
			return bson.RawValue{}, fmt.Errorf("%w: projectId %q is not an ObjectID: %w", ErrInvalidMessage, projectID, err)
		}
		v = oid
	case IDTypeString:
		v = projectID
	default:
		return bson.RawValue{}, fmt.Errorf("%w: unknown idType %q", ErrInvalidMessage, idType)
	}
	t, b, err := bson.MarshalValue(v)
	if err != nil {
		return bson.RawValue{}, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return bson.RawValue{Type: t, Value: b}, nil
}

func decodeSet(raw json.RawMessage) (map[string]any, error) {
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON(raw, true, &doc); err != nil {
		return nil, fmt.Errorf("%w: set: %w", ErrInvalidMessage, err)
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, fmt.Errorf("%w: set: %w", ErrInvalidMessage, err)
	}
	set := make(map[string]any, len(elems))
	for _, el := range elems {
		v, err := bsonvalue.Plain(el.Value())
		if err != nil {
			return nil, fmt.Errorf("%w: set.%s: %w", ErrInvalidMessage, el.Key(), err)
		}
		set[el.Key()] = v
	}
	if len(set) == 0 {
		return nil, nil
	}
	return set, nil
}
