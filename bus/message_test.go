package bus

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func rawID(t *testing.T, v any) bson.RawValue {
	t.Helper()
	typ, b, err := bson.MarshalValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return bson.RawValue{Type: typ, Value: b}
}

func token(t *testing.T, data string) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(bson.D{{Key: "_data", Value: data}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	oid := bson.NewObjectID()
	wall := time.Date(2026, 3, 4, 5, 6, 7, 8e6, time.UTC)
	cases := []event.Event{
		{Kind: event.ProjectDeleted, ProjectID: oid.Hex(), DocumentID: rawID(t, oid), Op: "delete",
			Token: token(t, "826A1"), ClusterTime: bson.Timestamp{T: 1772600767, I: 3}, WallTime: wall},
		{Kind: event.ProjectUpdated, ProjectID: "plain-id", DocumentID: rawID(t, "plain-id"), Op: "update",
			Token: token(t, "826A2"), ClusterTime: bson.Timestamp{T: 5, I: 1},
			Set: map[string]any{
				"name":          "Ünïcode <&>",
				"big":           int64(9007199254740993), // not a float64: must stay exact
				"ratio":         0.1,
				"when":          time.UnixMilli(1772600767123).UTC(),
				"blob":          []byte{0, 1, 2, 255},
				"owner.team":    "dotted path",
				"nested":        map[string]any{"a": []any{int64(1), "two", nil, true}},
				"nothing":       nil,
				"flag":          false,
				"with.dot.deep": map[string]any{"x.y": int64(-1)},
			},
			Unset: []string{"description"}},
	}
	for _, ev := range cases {
		data, attrs, err := Encode(ev)
		if err != nil {
			t.Fatalf("%s: %v", ev.Kind, err)
		}
		got, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: decode: %v\n%s", ev.Kind, err, data)
		}
		want := ev
		want.Token = nil // carried as the event id, not as such
		if !reflect.DeepEqual(got.Event, want) {
			t.Errorf("%s: round trip\n got %#v\nwant %#v\nbody %s", ev.Kind, got.Event, want, data)
		}
		if got.ID != deadletter.ID(ev.Token) || attrs[AttrEventID] != got.ID {
			t.Errorf("event id %q (attribute %q), want the dead letter's id %q", got.ID, attrs[AttrEventID], deadletter.ID(ev.Token))
		}
		if attrs[AttrType] != ev.Kind.String() || attrs[AttrProjectID] != ev.ProjectID || attrs[AttrVersion] != "1" {
			t.Errorf("attributes %v", attrs)
		}
	}
}

// The body is the documented schema: int64, dates and binary in canonical
// Extended JSON, the wall time in RFC 3339.
func TestEncodeWritesCanonicalExtendedJSON(t *testing.T) {
	ev := event.Event{Kind: event.ProjectUpdated, ProjectID: "p1", DocumentID: rawID(t, "p1"), Op: "update",
		Token: token(t, "x"), WallTime: time.UnixMilli(1772600767123).UTC(),
		Set: map[string]any{"n": int64(5), "d": time.UnixMilli(0).UTC(), "b": []byte("hi"), "f": 1.5}}
	data, _, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatal(err)
	}
	want := `{"b":{"$binary":{"base64":"aGk=","subType":"00"}},"d":{"$date":{"$numberLong":"0"}},"f":{"$numberDouble":"1.5"},"n":{"$numberLong":"5"}}`
	if string(body["set"]) != want {
		t.Errorf("set = %s\nwant %s", body["set"], want)
	}
	for k, v := range map[string]string{"version": "1", "type": `"ProjectUpdated"`, "idType": `"string"`,
		"wallTime": `"2026-03-04T05:06:07.123Z"`, "clusterTime": `{"t":0,"i":0}`} {
		if string(body[k]) != v {
			t.Errorf("%s = %s, want %s", k, body[k], v)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	ok := event.Event{Kind: event.ProjectDeleted, ProjectID: "p", DocumentID: rawID(t, "p"), Token: token(t, "t")}
	cases := map[string]struct {
		edit func(*event.Event)
		is   error
	}{
		"no token":         {func(ev *event.Event) { ev.Token = nil }, nil},
		"empty project id": {func(ev *event.Event) { ev.ProjectID = " " }, event.ErrEmptyProjectID},
		"int _id":          {func(ev *event.Event) { ev.DocumentID = rawID(t, int32(7)) }, event.ErrInvalidID},
		"unknown kind":     {func(ev *event.Event) { ev.Kind = 0 }, nil},
		"a $ key that Extended JSON would misread": {func(ev *event.Event) {
			ev.Kind = event.ProjectUpdated
			ev.Set = map[string]any{"name": map[string]any{"$numberLong": "5"}}
		}, event.ErrInvalidValue},
	}
	for name, c := range cases {
		ev := ok
		c.edit(&ev)
		_, _, err := Encode(ev)
		if err == nil {
			t.Errorf("%s: encoded", name)
			continue
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: %v, want %v", name, err, c.is)
		}
	}
}

func TestDecodeRefusesBadBodies(t *testing.T) {
	oid := bson.NewObjectID().Hex()
	good := `{"version":1,"id":"abc","type":"ProjectDeleted","projectId":"` + oid + `","idType":"objectId","clusterTime":{"t":1,"i":1}}`
	if _, err := Decode([]byte(good)); err != nil {
		t.Fatalf("the good body: %v", err)
	}
	for name, body := range map[string]string{
		"not JSON":           `{`,
		"newer version":      strings.Replace(good, `"version":1`, `"version":2`, 1),
		"unknown type":       strings.Replace(good, "ProjectDeleted", "ProjectCreated", 1),
		"unknown idType":     strings.Replace(good, "objectId", "int", 1),
		"bad ObjectID":       strings.Replace(good, oid, "zz", 1),
		"no id":              strings.Replace(good, `"id":"abc"`, `"id":""`, 1),
		"unsupported in set": strings.Replace(good, `"clusterTime"`, `"set":{"r":{"$regularExpression":{"pattern":"a","options":""}}},"clusterTime"`, 1),
	} {
		if _, err := Decode([]byte(body)); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: %v, want ErrInvalidMessage", name, err)
		}
	}
}
