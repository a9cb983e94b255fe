package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/projectwatcher/watcher/bsonvalue"
	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Resolver reads from MongoDB the new values an update event could not
// carry: when a descendant of a copied field changed ("meta.title" for the
// copied "meta"), the event holds only the changed part, so the whole
// value is read from the project document by _id.
//
// The value read is the document's current value, which may be newer than
// the event. That is harmless: events of one project are applied in order,
// so a later event rewrites the same field again, and the end state is the
// document's latest state.
type Resolver struct {
	coll *mongo.Collection
}

// NewResolver returns a Resolver reading the projects collection coll.
func NewResolver(coll *mongo.Collection) *Resolver {
	return &Resolver{coll: coll}
}

// Resolve fills in ev.Lookup: each path found in the project document goes
// to ev.Set, each path absent from it to ev.Unset; ev.Lookup is emptied.
//
// When the project no longer exists (it was deleted later in the stream),
// the paths are left out of Set and Unset and listed in ev.Unresolved, and
// Resolve returns nil: the delete event that follows in the stream deletes
// or archives the project's assets, so there is nothing to copy, and failing
// (or retrying) here would only hold the stream back. Only a failed read is
// an error (the event is then not applied and may be retried).
func (r *Resolver) Resolve(ctx context.Context, ev *event.Event) error {
	if len(ev.Lookup) == 0 {
		return nil
	}
	if ev.DocumentID.Type == 0 {
		return fmt.Errorf("resolve %s: %w: the event carries no raw _id", ev.ProjectID, event.ErrInvalidID)
	}
	tops := lookupProjection(ev.Lookup)
	proj := make(bson.D, 0, len(tops)+1)
	if !slices.Contains(tops, "_id") {
		proj = append(proj, bson.E{Key: "_id", Value: 0})
	}
	for _, p := range tops {
		proj = append(proj, bson.E{Key: p, Value: 1})
	}
	doc, err := r.coll.FindOne(ctx, bson.D{{Key: "_id", Value: ev.DocumentID}},
		options.FindOne().SetProjection(proj)).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		ev.Unresolved = append(ev.Unresolved, ev.Lookup...)
		ev.Lookup = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("resolve %s: read project: %w", ev.ProjectID, err)
	}
	root := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: doc}
	for _, p := range ev.Lookup {
		v, found := bsonvalue.At(root, p)
		if !found {
			if !slices.Contains(ev.Unset, p) {
				ev.Unset = append(ev.Unset, p)
			}
			continue
		}
		pv, err := bsonvalue.Plain(v)
		if err != nil {
			return fmt.Errorf("resolve %s: field %q: %w", ev.ProjectID, p, err)
		}
		if ev.Set == nil {
			ev.Set = make(map[string]any, len(ev.Lookup))
		}
		ev.Set[p] = pv
	}
	ev.Lookup = nil
	return nil
}

// lookupProjection returns the top-level fields of paths, once each. The
// whole top-level field is read and the path is walked here, with the same
// rules as Derive (array elements by index): a find projection on
// "tags.0" would not index the array, and a projection listing both "a"
// and "a.b" is rejected as a path collision.
func lookupProjection(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		top, _, _ := strings.Cut(p, ".")
		if !slices.Contains(out, top) {
			out = append(out, top)
		}
	}
	return out
}
