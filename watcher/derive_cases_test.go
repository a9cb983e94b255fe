package watcher

import (
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The inputs of the derivation cases (package level, so the table is data).
var (
	deriveToken = watchertest.Token("8265")
	deriveCT    = bson.Timestamp{T: 1700000000, I: 3}
	deriveWall  = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	oidKey      = watchertest.DocKey(watchertest.OID)
	when        = time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
)

func key(id any) bson.Raw   { return watchertest.DocKey(id) }
func doc(d bson.D) bson.Raw { return watchertest.Raw(nil, d) }

type want struct {
	ok     bool
	kind   event.Kind
	id     string
	set    map[string]any
	unset  []string
	lookup []string
	err    error  // errors.Is target
	fatal  string // FatalError.Op
}

// deriveCase is one row of deriveCases.
type deriveCase struct {
	name   string
	ch     event.Change
	fields []string
	want   want
}

var deriveCases = []deriveCase{
	// delete and ids
	{"delete ObjectID id", event.Change{Op: "delete", DocumentKey: oidKey}, []string{"name"},
		want{ok: true, kind: event.ProjectDeleted, id: watchertest.OIDHex}},
	{"delete string id", event.Change{Op: "delete", DocumentKey: key("p-42")}, nil,
		want{ok: true, kind: event.ProjectDeleted, id: "p-42"}},
	{"delete int id", event.Change{Op: "delete", DocumentKey: key(int32(7))}, nil,
		want{err: event.ErrInvalidID}},
	{"delete int64 id", event.Change{Op: "delete", DocumentKey: key(int64(7))}, nil,
		want{err: event.ErrInvalidID}},
	{"delete document id", event.Change{Op: "delete", DocumentKey: key(bson.D{{Key: "a", Value: 1}})}, nil,
		want{err: event.ErrInvalidID}},
	{"delete empty string id", event.Change{Op: "delete", DocumentKey: key("")}, nil,
		want{err: event.ErrInvalidID}},
	{"delete without documentKey", event.Change{Op: "delete"}, nil,
		want{err: event.ErrInvalidID}},
	{"delete documentKey without _id", event.Change{Op: "delete", DocumentKey: doc(bson.D{{Key: "x", Value: 1}})}, nil,
		want{err: event.ErrInvalidID}},
	{"delete malformed documentKey", event.Change{Op: "delete", DocumentKey: bson.Raw{5, 0, 0, 0, 1}}, nil,
		want{err: event.ErrInvalidID}},

	// update: same path
	{"update copied field", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "name", Value: "Apollo"}, {Key: "budget", Value: 3}})},
		[]string{"name"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, set: map[string]any{"name": "Apollo"}}},
	{"update with string id", event.Change{Op: "update", DocumentKey: key("p-1"),
		UpdatedFields: doc(bson.D{{Key: "name", Value: "A"}})},
		[]string{"name"},
		want{ok: true, kind: event.ProjectUpdated, id: "p-1", set: map[string]any{"name": "A"}}},
	{"update nested path", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "meta.title", Value: "T"}})},
		[]string{"meta.title", "name"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, set: map[string]any{"meta.title": "T"}}},
	{"update set to null", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "name", Value: nil}})},
		[]string{"name"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, set: map[string]any{"name": nil}}},
	{"update converts values", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{
			{Key: "n", Value: int32(5)},
			{Key: "d", Value: bson.NewDateTimeFromTime(when)},
			{Key: "o", Value: watchertest.OID},
			{Key: "m", Value: bson.D{{Key: "k", Value: bson.A{"x", 1.5, true}}}},
		})},
		[]string{"n", "d", "o", "m"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, set: map[string]any{
			"n": int64(5), "d": when, "o": watchertest.OIDHex,
			"m": map[string]any{"k": []any{"x", 1.5, true}},
		}}},
	{"update value of unsupported type", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "name", Value: bson.Regex{Pattern: "a", Options: "i"}}})},
		[]string{"name"},
		want{err: event.ErrInvalidValue, lookup: []string{"name"}}},
	{"update value of unsupported type beside a valid one", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "tags", Value: "t"}, {Key: "name", Value: bson.JavaScript("f()")}}), RemovedFields: []string{"color"}},
		[]string{"name", "tags", "color", "untouched"},
		want{err: event.ErrInvalidValue, lookup: []string{"name", "tags", "color"}}},
	{"replace with a value of unsupported type", event.Change{Op: "replace", DocumentKey: oidKey,
		FullDocument: doc(bson.D{{Key: "_id", Value: watchertest.OID}, {Key: "name", Value: bson.MinKey{}}, {Key: "tags", Value: "t"}})},
		[]string{"tags", "name", "color"},
		want{err: event.ErrInvalidValue, lookup: []string{"tags", "name", "color"}}},

	// update: ancestor
	{"update ancestor takes inner value", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "meta", Value: bson.D{{Key: "title", Value: "T"}, {Key: "x", Value: 1}}}})},
		[]string{"meta.title"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, set: map[string]any{"meta.title": "T"}}},
	{"update deep ancestor", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "a.b", Value: bson.D{{Key: "c", Value: bson.D{{Key: "d", Value: "v"}}}}}})},
		[]string{"a.b.c.d"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, set: map[string]any{"a.b.c.d": "v"}}},
	{"update ancestor without the inner field unsets", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "meta", Value: bson.D{{Key: "other", Value: 1}}}})},
		[]string{"meta.title"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, unset: []string{"meta.title"}}},
	{"update ancestor replaced by a scalar unsets", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "meta", Value: "flat"}})},
		[]string{"meta.title"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, unset: []string{"meta.title"}}},
	{"update ancestor array by index", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "tags", Value: bson.A{"a", "b"}}})},
		[]string{"tags.1"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, set: map[string]any{"tags.1": "b"}}},
	{"update ancestor array by name is absent", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "tags", Value: bson.A{bson.D{{Key: "n", Value: 1}}}}})},
		[]string{"tags.n"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, unset: []string{"tags.n"}}},

	// update: descendant
	{"update descendant needs lookup", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "meta.title", Value: "T"}})},
		[]string{"meta"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, lookup: []string{"meta"}}},
	{"update array element is a descendant", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "tags.0", Value: "x"}})},
		[]string{"tags"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, lookup: []string{"tags"}}},
	{"lookup wins over set", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "meta", Value: bson.D{}}, {Key: "meta.t", Value: 1}})},
		[]string{"meta"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, lookup: []string{"meta"}}},
	{"update mixes set, unset and lookup", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "name", Value: "N"}, {Key: "meta.title", Value: "T"}}),
		RemovedFields: []string{"owner"}},
		[]string{"name", "meta", "owner.email", "other"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex,
			set: map[string]any{"name": "N"}, unset: []string{"owner.email"}, lookup: []string{"meta"}}},
	{"prefix of a name is not an ancestor", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "nameX", Value: "N"}, {Key: "na", Value: 1}})},
		[]string{"name"},
		want{ok: false}},
	{"update touching no copied field", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "budget", Value: 10}, {Key: "owner.email", Value: "e"}}),
		RemovedFields: []string{"notes"}},
		[]string{"name", "meta.title"},
		want{ok: false}},
	{"update with no configured fields", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: doc(bson.D{{Key: "name", Value: "N"}})},
		nil,
		want{ok: false}},
	{"irrelevant update with a bad id is ignored", event.Change{Op: "update", DocumentKey: key(int32(1)),
		UpdatedFields: doc(bson.D{{Key: "budget", Value: 1}})},
		[]string{"name"},
		want{ok: false}},
	{"relevant update with a bad id fails", event.Change{Op: "update", DocumentKey: key(int32(1)),
		UpdatedFields: doc(bson.D{{Key: "name", Value: "N"}})},
		[]string{"name"},
		want{err: event.ErrInvalidID}},
	{"update with malformed updatedFields", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields: bson.Raw{9, 0, 0, 0, 2, 'a', 0, 0, 0}},
		[]string{"name"},
		want{err: ErrMalformedChange}},

	// update: removed fields
	{"removed field unsets", event.Change{Op: "update", DocumentKey: oidKey, RemovedFields: []string{"name"}},
		[]string{"name"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, unset: []string{"name"}}},
	{"removed ancestor unsets", event.Change{Op: "update", DocumentKey: oidKey, RemovedFields: []string{"meta"}},
		[]string{"meta.title", "meta.sub.x"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, unset: []string{"meta.title", "meta.sub.x"}}},
	{"removed descendant needs lookup", event.Change{Op: "update", DocumentKey: oidKey, RemovedFields: []string{"meta.title"}},
		[]string{"meta"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, lookup: []string{"meta"}}},

	// update: dotted field names (disambiguatedPaths)
	{"dotted field name is not a nested path", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields:      doc(bson.D{{Key: "a.b", Value: "v"}}),
		DisambiguatedPaths: doc(bson.D{{Key: "a.b", Value: bson.A{"a.b"}}})},
		[]string{"a.b", "a"},
		want{ok: false}},
	{"dotted field inside a copied field needs lookup", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields:      doc(bson.D{{Key: "meta.a.b", Value: "v"}}),
		DisambiguatedPaths: doc(bson.D{{Key: "meta.a.b", Value: bson.A{"meta", "a.b"}}})},
		[]string{"meta.a", "meta"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, lookup: []string{"meta"}}},
	{"dotted ancestor is not an ancestor", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields:      doc(bson.D{{Key: "x.y", Value: bson.D{{Key: "z", Value: 1}}}}),
		DisambiguatedPaths: doc(bson.D{{Key: "x.y", Value: bson.A{"x.y"}}})},
		[]string{"x.y.z"},
		want{ok: false}},
	{"disambiguated same path with array index", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields:      doc(bson.D{{Key: "tags.0", Value: "t"}}),
		DisambiguatedPaths: doc(bson.D{{Key: "tags.0", Value: bson.A{"tags", int32(0)}}})},
		[]string{"tags.0"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, set: map[string]any{"tags.0": "t"}}},
	{"disambiguated ancestor", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields:      doc(bson.D{{Key: "m", Value: bson.D{{Key: "t", Value: "v"}}}}),
		DisambiguatedPaths: doc(bson.D{{Key: "m", Value: bson.A{"m"}}})},
		[]string{"m.t"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, set: map[string]any{"m.t": "v"}}},
	{"removed dotted field name", event.Change{Op: "update", DocumentKey: oidKey,
		RemovedFields:      []string{"a.b"},
		DisambiguatedPaths: doc(bson.D{{Key: "a.b", Value: bson.A{"a.b"}}})},
		[]string{"a.b", "a"},
		want{ok: false}},
	{"malformed disambiguatedPaths", event.Change{Op: "update", DocumentKey: oidKey,
		UpdatedFields:      doc(bson.D{{Key: "a.b", Value: "v"}}),
		DisambiguatedPaths: doc(bson.D{{Key: "a.b", Value: "a.b"}})},
		[]string{"a"},
		want{err: ErrMalformedChange}},

	// update: truncated arrays
	{"truncated array needs lookup", event.Change{Op: "update", DocumentKey: oidKey,
		TruncatedArrays: watchertest.RawArray(nil, bson.A{bson.D{{Key: "field", Value: "tags"}, {Key: "newSize", Value: int32(1)}}})},
		[]string{"tags", "name"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex, lookup: []string{"tags"}}},

	// replace
	{"replace sets present and unsets absent fields", event.Change{Op: "replace", DocumentKey: oidKey,
		FullDocument: doc(bson.D{{Key: "_id", Value: watchertest.OID}, {Key: "name", Value: "N"},
			{Key: "meta", Value: bson.D{{Key: "title", Value: "T"}}}})},
		[]string{"name", "meta.title", "meta.sub", "owner"},
		want{ok: true, kind: event.ProjectUpdated, id: watchertest.OIDHex,
			set: map[string]any{"name": "N", "meta.title": "T"}, unset: []string{"meta.sub", "owner"}}},
	{"replace with every field absent", event.Change{Op: "replace", DocumentKey: key("p"),
		FullDocument: doc(bson.D{{Key: "_id", Value: "p"}})},
		[]string{"name"},
		want{ok: true, kind: event.ProjectUpdated, id: "p", unset: []string{"name"}}},
	{"replace without fullDocument", event.Change{Op: "replace", DocumentKey: oidKey},
		[]string{"name"},
		want{err: ErrMalformedChange}},
	{"replace with a bad id", event.Change{Op: "replace", DocumentKey: key(""),
		FullDocument: doc(bson.D{{Key: "name", Value: "N"}})},
		[]string{"name"},
		want{err: event.ErrInvalidID}},

	// nothing to do / fatal / unknown
	{"insert", event.Change{Op: "insert", DocumentKey: oidKey, FullDocument: doc(bson.D{{Key: "name", Value: "N"}})},
		[]string{"name"}, want{ok: false}},
	{"drop", event.Change{Op: "drop", Namespace: event.Namespace{DB: "collab", Coll: "projects"}}, nil, want{fatal: "drop"}},
	{"rename", event.Change{Op: "rename", Namespace: event.Namespace{DB: "collab", Coll: "projects"}, To: event.Namespace{DB: "collab", Coll: "old"}}, nil,
		want{fatal: "rename"}},
	{"dropDatabase", event.Change{Op: "dropDatabase", Namespace: event.Namespace{DB: "collab"}}, nil, want{fatal: "dropDatabase"}},
	{"invalidate", event.Change{Op: "invalidate"}, nil, want{fatal: "invalidate"}},
	{"unknown operation", event.Change{Op: "createIndexes"}, nil, want{err: ErrUnknownOperation}},
	{"empty operation", event.Change{}, nil, want{err: ErrUnknownOperation}},
}
