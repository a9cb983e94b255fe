package event

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{ProjectDeleted: "ProjectDeleted", ProjectUpdated: "ProjectUpdated", 0: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d) = %q, want %q", int(k), got, want)
		}
	}
}

func TestEventTime(t *testing.T) {
	wall := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	cases := []struct {
		name string
		ev   Event
		want time.Time
	}{
		{"wall time wins", Event{WallTime: wall, ClusterTime: bson.Timestamp{T: 10}}, wall},
		{"cluster time seconds", Event{ClusterTime: bson.Timestamp{T: 1700000000, I: 3}}, time.Unix(1700000000, 0).UTC()},
		{"neither", Event{}, time.Time{}},
	}
	for _, c := range cases {
		if got := c.ev.Time(); !got.Equal(c.want) {
			t.Errorf("%s: Time() = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestReportTotalAndTimestampString(t *testing.T) {
	r := Report{Collections: []CollectionReport{{Matched: 2, Deleted: 9}, {Matched: 3}}}
	if got := r.Total(); got != 5 {
		t.Errorf("Total() = %d, want 5", got)
	}
	if got := TimestampString(bson.Timestamp{T: 7, I: 2}); got != "Timestamp(7, 2)" {
		t.Errorf("TimestampString = %q", got)
	}
	if got := (Namespace{DB: "a", Coll: "b"}).String() + "|" + (Namespace{DB: "a"}).String(); got != "a.b|a" {
		t.Errorf("Namespace.String = %q", got)
	}
}
