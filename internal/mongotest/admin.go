package mongotest

import (
	"slices"
	"strings"

	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// cmdCreate creates a collection, or a view ({viewOn, pipeline}).
func (s *Server) cmdCreate(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	if err := x.rejectUnsupported("timeseries", "clusteredIndex", "collation", "encryptedFields"); err != nil {
		return nil, err
	}
	if v, ok := x.get("capped"); ok && asBool(v) {
		return nil, errf(2, "mongotest does not support capped collections")
	}
	var view *viewDef
	if v, ok := x.get("viewOn"); ok {
		on, isStr := v.(string)
		if !isStr || on == "" {
			return nil, errf(14, "'viewOn' must be a non-empty string")
		}
		pv, _ := x.get("pipeline")
		p, _ := pv.(bson.A)
		if p == nil {
			p = bson.A{}
		}
		view = &viewDef{on: on, pipeline: p}
	} else if _, ok := x.get("pipeline"); ok {
		return nil, errf(9, "'pipeline' requires 'viewOn' to also be specified")
	}
	opts := bson.D{}
	if v, ok := x.get("changeStreamPreAndPostImages"); ok {
		if err := checkImagesOption(v); err != nil {
			return nil, err
		}
		opts = append(opts, bson.E{Key: "changeStreamPreAndPostImages", Value: v})
	}
	for _, e := range x.cmd[1:] {
		if validationOptions[e.Key] {
			if err := checkValidationOption(e.Key, e.Value); err != nil {
				return nil, err
			}
			opts = append(opts, e)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.collLocked(x.db, coll, false) != nil {
		return nil, errf(48, "Collection %s.%s already exists.", x.db, coll)
	}
	s.createCollLocked(x.db, coll, opts, view)
	return bson.D{}, nil
}

// checkImagesOption validates {changeStreamPreAndPostImages: {enabled: bool}}.
func checkImagesOption(v any) error {
	d, ok := v.(bson.D)
	en, has := lookupKey(d, "enabled")
	if _, isBool := en.(bool); !ok || !has || !isBool || len(d) != 1 {
		return errf(40414, "BSON field 'changeStreamPreAndPostImages.enabled' is missing but a required field")
	}
	return nil
}

// dropCollLocked removes a collection and records its drop event.
func (s *Server) dropCollLocked(c *collection) {
	d := s.dbs[c.db]
	delete(d.colls, c.name)
	s.recordCollLocked(c, &changeEvent{op: "drop"})
	s.killCursorsOfLocked(c.db + "." + c.name)
}

func (s *Server) killCursorsOfLocked(ns string) {
	for id, cur := range s.cursors {
		if cur.stream == nil && cur.ns == ns {
			delete(s.cursors, id)
		}
	}
}

func (s *Server) cmdDrop(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.collLocked(x.db, coll, false)
	if c == nil {
		return bson.D{}, nil // MongoDB 7: dropping a missing collection succeeds
	}
	n := int32(len(c.indexes))
	s.dropCollLocked(c)
	return bson.D{{Key: "nIndexesWas", Value: n}, {Key: "ns", Value: x.db + "." + coll}}, nil
}

func (s *Server) cmdDropDatabase(x *cmdCtx) (bson.D, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dbs[x.db]
	if d == nil {
		return bson.D{}, nil
	}
	names := make([]string, 0, len(d.colls))
	for name := range d.colls {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s.dropCollLocked(d.colls[name])
	}
	delete(s.dbs, x.db)
	s.recordLocked(&changeEvent{op: "dropDatabase", db: x.db})
	return bson.D{{Key: "dropped", Value: x.db}}, nil
}

func (s *Server) cmdListCollections(x *cmdCtx) (bson.D, error) {
	filter, err := x.optDoc("filter")
	if err != nil {
		return nil, err
	}
	nv, _ := x.get("nameOnly")
	nameOnly := asBool(nv)
	batchSize := int64(-1)
	if cd, _ := x.optDoc("cursor"); cd != nil {
		if v, ok := lookupKey(cd, "batchSize"); ok {
			batchSize, _ = asInt64(v)
		}
	}
	s.mu.Lock()
	var docs []bson.D
	if d := s.dbs[x.db]; d != nil {
		names := make([]string, 0, len(d.colls))
		for name := range d.colls {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			c := d.colls[name]
			doc := bson.D{{Key: "name", Value: name}, {Key: "type", Value: "collection"}}
			switch {
			case c.view != nil:
				doc[1].Value = "view"
				if !nameOnly {
					doc = append(doc,
						bson.E{Key: "options", Value: bson.D{{Key: "viewOn", Value: c.view.on}, {Key: "pipeline", Value: c.view.pipeline}}},
						bson.E{Key: "info", Value: bson.D{{Key: "readOnly", Value: true}}},
					)
				}
			case !nameOnly:
				doc = append(doc,
					bson.E{Key: "options", Value: c.options},
					bson.E{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}, {Key: "uuid", Value: c.uuid}}},
					bson.E{Key: "idIndex", Value: c.indexes[0].spec},
				)
			}
			docs = append(docs, doc)
		}
	}
	s.mu.Unlock()
	if filter != nil {
		kept := docs[:0]
		for _, d := range docs {
			ok, err := mquery.Match(d, filter)
			if err != nil {
				return nil, err
			}
			if ok {
				kept = append(kept, d)
			}
		}
		docs = kept
	}
	return s.plainCursorReply(x.db+".$cmd.listCollections", docs, batchSize, false), nil
}

func (s *Server) cmdListDatabases(x *cmdCtx) (bson.D, error) {
	filter, err := x.optDoc("filter")
	if err != nil {
		return nil, err
	}
	nv, _ := x.get("nameOnly")
	nameOnly := asBool(nv)
	s.mu.Lock()
	names := make([]string, 0, len(s.dbs))
	sizes := map[string]int64{}
	for name, d := range s.dbs {
		names = append(names, name)
		for _, c := range d.colls {
			for _, e := range c.docs {
				b, _ := bson.Marshal(e.doc)
				sizes[name] += int64(len(b))
			}
		}
	}
	s.mu.Unlock()
	slices.Sort(names)
	dbs := bson.A{}
	var total int64
	for _, name := range names {
		doc := bson.D{{Key: "name", Value: name}}
		if !nameOnly {
			doc = append(doc, bson.E{Key: "sizeOnDisk", Value: sizes[name]}, bson.E{Key: "empty", Value: sizes[name] == 0})
		}
		if filter != nil {
			ok, err := mquery.Match(doc, filter)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		total += sizes[name]
		dbs = append(dbs, doc)
	}
	r := bson.D{{Key: "databases", Value: dbs}}
	if !nameOnly {
		r = append(r, bson.E{Key: "totalSize", Value: total}, bson.E{Key: "totalSizeMb", Value: total >> 20})
	}
	return r, nil
}

// cmdRenameCollection renames a collection (an admin command:
// {renameCollection: "db.a", to: "db.b", dropTarget}).
func (s *Server) cmdRenameCollection(x *cmdCtx) (bson.D, error) {
	if x.db != "admin" {
		return nil, errf(13, "renameCollection may only be run against the admin database.")
	}
	from, _ := x.cmd[0].Value.(string)
	tv, _ := x.get("to")
	to, _ := tv.(string)
	fromDB, fromColl, ok1 := strings.Cut(from, ".")
	toDB, toColl, ok2 := strings.Cut(to, ".")
	if !ok1 || !ok2 || fromColl == "" || toColl == "" {
		return nil, errf(73, "Invalid namespace specified")
	}
	dv, _ := x.get("dropTarget")
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.collLocked(fromDB, fromColl, false)
	if src == nil {
		return nil, errf(26, "Source collection %s does not exist", from)
	}
	if from == to {
		return nil, errf(20, "Can't rename a collection to itself")
	}
	desc := bson.D{{Key: "to", Value: bson.D{{Key: "db", Value: toDB}, {Key: "coll", Value: toColl}}}}
	if dst := s.collLocked(toDB, toColl, false); dst != nil {
		if !asBool(dv) {
			return nil, errf(48, "target namespace exists")
		}
		desc = append(desc, bson.E{Key: "dropTarget", Value: dst.uuid})
		s.dropCollLocked(dst)
	}
	delete(s.dbs[fromDB].colls, fromColl)
	s.killCursorsOfLocked(from)
	s.databaseLocked(toDB).colls[toColl] = src
	s.recordCollLocked(src, &changeEvent{op: "rename", toDB: toDB, toColl: toColl, desc: desc})
	src.db, src.name = toDB, toColl
	return bson.D{}, nil
}
