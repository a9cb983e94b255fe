package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/projectwatcher/watcher/bsonvalue"
	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Resolver reads from MongoDB what an event needs before it is applied,
// always on the primary with majority read concern (whatever the URI says:
// a secondary could answer with an older value or "no project"):
//
//   - Resolve: the new values an update event could not carry. When a
//     descendant of a copied field changed ("meta.title" for the copied
//     "meta"), the event holds only the changed part, so the whole value is
//     read from the project document by _id. The value read is the
//     document's current value, which may be newer than the event. That is
//     harmless: events of one project are applied in order, so a later
//     event rewrites the same field again, and the end state is the
//     document's latest state.
//   - Check: whether the project exists, in either form of its id (see
//     Check).
type Resolver struct {
	coll *mongo.Collection
	skew time.Duration
}

// ResolverOption tunes a Resolver.
type ResolverOption func(*Resolver)

// WithCreateTimeSkew is sync.createTimeSkew: how far after an event's time
// an asset may have been created and still belong to the deleted project.
func WithCreateTimeSkew(d time.Duration) ResolverOption { return func(r *Resolver) { r.skew = d } }

// NewResolver returns a Resolver reading the projects collection coll.
func NewResolver(coll *mongo.Collection, opts ...ResolverOption) *Resolver {
	r := &Resolver{coll: coll, skew: 2 * time.Second}
	if coll != nil {
		primary := options.Collection().SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Majority())
		r.coll = coll.Database().Collection(coll.Name(), primary)
	}
	for _, o := range opts {
		o(r)
	}
	return r
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
			return fmt.Errorf("resolve %s: field %q: %w: %w", ev.ProjectID, p, event.ErrInvalidValue, err)
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

// Check applies the existence rules before an event is applied, with one
// read of the project by _id in both forms of its id:
//
//   - a live project with the other form of the id (an ObjectID and its
//     24-hex string twin) means the event is not this project's to apply:
//     an error wrapping event.ErrProjectExists, nothing is written;
//   - a delete whose project exists again (the same id re-created) deletes
//     only the documents created by the event's time plus the skew:
//     ev.CreatedBy is set. Without a raw _id (a repair of reconciliation)
//     or without a time, an existing project is event.ErrProjectExists.
//
// An update whose id cannot have a twin, or that has no raw _id, needs no
// read.
func (r *Resolver) Check(ctx context.Context, ev *event.Event) error {
	own, others, ok := idForms(ev)
	if !ok || ev.Kind == event.ProjectUpdated && (own == nil || len(others) == 0) {
		return nil
	}
	ids := append(bson.A{}, others...)
	if own != nil {
		ids = append(ids, own)
	}
	cur, err := r.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("check project %s: read projects: %w", ev.ProjectID, err)
	}
	var found []projectID
	if err := cur.All(ctx, &found); err != nil {
		return fmt.Errorf("check project %s: read projects: %w", ev.ProjectID, err)
	}
	return r.rule(ev, own != nil, found)
}

// projectID is a project document as Check reads it.
type projectID struct {
	ID bson.RawValue `bson:"_id"`
}

// rule decides from the projects Check found; hasOwn says the event named
// its raw _id.
func (r *Resolver) rule(ev *event.Event, hasOwn bool, found []projectID) error {
	ownExists := false
	for _, f := range found {
		if !hasOwn || !f.ID.Equal(ev.DocumentID) {
			return fmt.Errorf("%w: project %s exists as %s %s; nothing written", event.ErrProjectExists,
				ev.ProjectID, f.ID.Type, f.ID)
		}
		ownExists = true
	}
	if !ownExists || ev.Kind != event.ProjectDeleted {
		return nil
	}
	at := ev.Time()
	if at.IsZero() {
		return fmt.Errorf("%w: project %s exists again and the event has no time to tell its assets apart", event.ErrProjectExists, ev.ProjectID)
	}
	ev.CreatedBy = at.Add(r.skew)
	return nil
}

// idForms are the _id of ev's project as the change named it (own; nil
// without a raw _id) and the other forms of the same text (an ObjectID and
// its 24-char lowercase hex string); ok is false for an id that cannot name
// a project.
func idForms(ev *event.Event) (own any, others []any, ok bool) {
	twinOf := func(s string) []any {
		if oid, err := bson.ObjectIDFromHex(s); err == nil && oid.Hex() == s {
			return []any{oid}
		}
		return nil
	}
	switch ev.DocumentID.Type {
	case bson.TypeObjectID:
		oid := ev.DocumentID.ObjectID()
		return oid, []any{oid.Hex()}, true
	case bson.TypeString:
		s := ev.DocumentID.StringValue()
		return s, twinOf(s), true
	case 0: // no raw _id: every form of the project id counts
		s := ev.ProjectID
		if strings.TrimSpace(s) == "" {
			return nil, nil, false
		}
		return nil, append([]any{s}, twinOf(s)...), true
	}
	return nil, nil, false
}
