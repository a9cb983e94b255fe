package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/projectwatcher/watcher/bsonvalue"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// finder looks projects up in the projects collection, on the primary with
// majority read concern whatever the URI says: a lookup decides what is
// deleted, and a secondary could answer "no project" for one just created.
type finder struct {
	coll    *mongo.Collection
	sources []string // copied source paths
	proj    bson.D   // their top-level fields (paths are walked here, as the watcher does)
	log     zerolog.Logger
}

func newFinder(coll *mongo.Collection, sources []string, log zerolog.Logger) *finder {
	var proj bson.D
	var tops []string
	for _, s := range sources {
		top, _, _ := strings.Cut(s, ".")
		if top != "_id" && !slices.Contains(tops, top) {
			tops = append(tops, top)
			proj = append(proj, bson.E{Key: top, Value: 1})
		}
	}
	if len(proj) == 0 {
		proj = bson.D{{Key: "_id", Value: 1}}
	}
	primary := options.Collection().SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Majority())
	coll = coll.Database().Collection(coll.Name(), primary)
	return &finder{coll: coll, sources: sources, proj: proj, log: log}
}

// find looks ids up with one find({_id: {$in: [...]}}), projecting only the
// copied source fields. A 24-char lowercase hex id is asked for both as an
// ObjectID and as a string. The Lookup it returns names every id it asked
// for; on an error it returns none, so nothing is taken for an orphan.
func (f *finder) find(ctx context.Context, ids []string) (Lookup, error) {
	in := make(bson.A, 0, 2*len(ids))
	asked := make(map[string]bool, len(ids))
	for _, id := range ids {
		if _, ok := ValidID(id); !ok {
			continue // never a query with an empty id
		}
		asked[id] = true
		in = append(in, idForms(id)...)
	}
	look := Lookup{Asked: asked, Found: make(map[string]Project, len(ids))}
	if len(in) == 0 {
		return look, nil
	}
	cur, err := f.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: in}}}},
		options.Find().SetProjection(f.proj).SetBatchSize(int32(len(in))))
	if err != nil {
		return Lookup{}, fmt.Errorf("looking up %d projects: %w", len(ids), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		pid, ok := projectID(cur.Current.Lookup("_id"))
		if !ok || !asked[pid] {
			continue
		}
		p := f.project(pid, cur.Current)
		p.ID = copyValue(cur.Current.Lookup("_id"))
		if prev, dup := look.Found[pid]; dup {
			// Both an ObjectID and a string _id render as this id (twins):
			// compare with the ObjectID project, as the watcher's events
			// name it too; its repair is refused (project-exists) by the
			// existence rules, for a person to decide.
			f.log.Warn().Str("projectId", pid).Msg("two projects (ObjectID and string _id) share this id; their assets are not repaired")
			if cur.Current.Lookup("_id").Type == bson.TypeString {
				p = prev
			}
		}
		look.Found[pid] = p
	}
	if err := cur.Err(); err != nil {
		return Lookup{}, fmt.Errorf("looking up %d projects: %w", len(ids), err)
	}
	return look, nil
}

// copyValue copies v out of the cursor's buffer.
func copyValue(v bson.RawValue) bson.RawValue {
	v.Value = append([]byte(nil), v.Value...)
	return v
}

// project reads the copied fields of a project document.
func (f *finder) project(pid string, doc bson.Raw) Project {
	p := Project{Values: make(map[string]any, len(f.sources))}
	root := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: doc}
	for _, s := range f.sources {
		v, ok := bsonvalue.At(root, s)
		if !ok {
			continue
		}
		pv, err := bsonvalue.Plain(v)
		if err != nil {
			f.log.Warn().Err(err).Str("projectId", pid).Str("field", s).Msg("field cannot be copied; not compared")
			if p.Skip == nil {
				p.Skip = map[string]bool{}
			}
			p.Skip[s] = true
			continue
		}
		p.Values[s] = pv
	}
	return p
}
