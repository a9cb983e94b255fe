package watcher

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestLookupProjection(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"meta"}, []string{"meta"}},
		{[]string{"meta.title", "meta", "tags.0", "name"}, []string{"meta", "tags", "name"}},
		{[]string{"a.b.c", "a.d"}, []string{"a"}},
	}
	for _, tc := range tests {
		if got := lookupProjection(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("lookupProjection(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestResolveWithoutIO(t *testing.T) {
	// A nil collection: these cases must not read MongoDB.
	r := NewResolver(nil)
	t.Run("nothing to look up", func(t *testing.T) {
		ev := &Event{Kind: ProjectUpdated, ProjectID: "p", Set: map[string]any{"name": "N"}}
		if err := r.Resolve(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ev.Set, map[string]any{"name": "N"}) || ev.Unset != nil || ev.Unresolved != nil {
			t.Errorf("event changed: %+v", ev)
		}
	})
	t.Run("no raw id", func(t *testing.T) {
		ev := &Event{Kind: ProjectUpdated, ProjectID: "p", Lookup: []string{"meta"}}
		if err := r.Resolve(context.Background(), ev); !errors.Is(err, ErrInvalidID) {
			t.Fatalf("err = %v, want ErrInvalidID", err)
		}
	})
}
