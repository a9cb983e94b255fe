package mongotest

import (
	"slices"
	"strings"

	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func (s *Server) cmdCreate(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	if err := x.rejectUnsupported("viewOn", "pipeline", "timeseries", "clusteredIndex", "collation", "validator"); err != nil {
		return nil, err
	}
	if v, ok := x.get("capped"); ok && asBool(v) {
		return nil, errf(2, "mongotest does not support capped collections")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.collLocked(x.db, coll, false) != nil {
		return nil, errf(48, "Collection %s.%s already exists.", x.db, coll)
	}
	opts := bson.D{}
	if v, ok := x.get("changeStreamPreAndPostImages"); ok {
		opts = append(opts, bson.E{Key: "changeStreamPreAndPostImages", Value: v})
	}
	c := s.collLocked(x.db, coll, true)
	c.options = opts
	return bson.D{}, nil
}

// dropCollLocked removes a collection and records its drop event.
func (s *Server) dropCollLocked(c *collection) {
	d := s.dbs[c.db]
	delete(d.colls, c.name)
	s.recordLocked(&changeEvent{op: "drop", db: c.db, coll: c.name})
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
			if !nameOnly {
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

func (s *Server) cmdCreateIndexes(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	specs, err := x.statements("indexes")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	created := s.collLocked(x.db, coll, false) == nil
	c := s.collLocked(x.db, coll, true)
	before := int32(len(c.indexes))
	for _, spec := range specs {
		if err := s.createIndexLocked(c, spec); err != nil {
			return nil, err
		}
	}
	return bson.D{
		{Key: "numIndexesBefore", Value: before},
		{Key: "numIndexesAfter", Value: int32(len(c.indexes))},
		{Key: "createdCollectionAutomatically", Value: created},
	}, nil
}

func (s *Server) createIndexLocked(c *collection, spec bson.D) error {
	kv, _ := lookupKey(spec, "key")
	key, ok := kv.(bson.D)
	if !ok || len(key) == 0 {
		return errf(67, "Index key pattern must be a non-empty object")
	}
	nv, _ := lookupKey(spec, "name")
	name, ok := nv.(string)
	if !ok || name == "" {
		return errf(9, "The 'name' field is a required property of an index specification")
	}
	for _, k := range []string{"partialFilterExpression", "collation", "wildcardProjection"} {
		if _, has := lookupKey(spec, k); has {
			return errf(2, "mongotest does not support index option '%s'", k)
		}
	}
	uv, _ := lookupKey(spec, "unique")
	sv, _ := lookupKey(spec, "sparse")
	ix := &index{name: name, key: key, unique: asBool(uv), sparse: asBool(sv)}
	ix.spec = bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: key}, {Key: "name", Value: name}}
	for _, e := range spec {
		if e.Key != "key" && e.Key != "name" && e.Key != "v" {
			ix.spec = append(ix.spec, e)
		}
	}
	for _, have := range c.indexes {
		sameKey := sameDoc(have.key, key)
		switch {
		case have.name == name && sameKey:
			if have.unique != ix.unique {
				return errf(86, "An existing index has the same name as the requested index but different options: %s", name)
			}
			return nil
		case have.name == name:
			return errf(86, "An existing index has the same name as the requested index but a different key: %s", name)
		case sameKey && have.unique == ix.unique:
			return errf(85, "Index already exists with a different name: %s", have.name)
		}
	}
	if ix.unique {
		for i, e := range c.docs {
			k, present := indexKey(e.doc, ix)
			if ix.sparse && !present {
				continue
			}
			for _, o := range c.docs[i+1:] {
				ok2, otherPresent := indexKey(o.doc, ix)
				if ix.sparse && !otherPresent {
					continue
				}
				if sameKey(k, ok2) {
					return c.dupKeyError(ix, k)
				}
			}
		}
	}
	c.indexes = append(c.indexes, ix)
	return nil
}

func (s *Server) cmdListIndexes(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	c := s.collLocked(x.db, coll, false)
	if c == nil {
		s.mu.Unlock()
		return nil, errf(26, "ns does not exist: %s.%s", x.db, coll)
	}
	docs := make([]bson.D, 0, len(c.indexes))
	for _, ix := range c.indexes {
		docs = append(docs, ix.spec)
	}
	s.mu.Unlock()
	return s.plainCursorReply(x.db+".$cmd.listIndexes."+coll, docs, -1, false), nil
}

func (s *Server) cmdDropIndexes(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	which, _ := x.get("index")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.collLocked(x.db, coll, false)
	if c == nil {
		return nil, errf(26, "ns not found %s.%s", x.db, coll)
	}
	before := int32(len(c.indexes))
	drop := func(match func(*index) bool) error {
		for i, ix := range c.indexes[1:] {
			if match(ix) {
				c.indexes = slices.Delete(c.indexes, i+1, i+2)
				return nil
			}
		}
		return errf(27, "index not found with spec %v", which)
	}
	switch w := which.(type) {
	case string:
		if w == "*" {
			c.indexes = c.indexes[:1]
			break
		}
		if w == "_id_" {
			return nil, errf(72, "cannot drop _id index")
		}
		if err := drop(func(ix *index) bool { return ix.name == w }); err != nil {
			return nil, err
		}
	case bson.D:
		if err := drop(func(ix *index) bool { return sameDoc(ix.key, w) }); err != nil {
			return nil, err
		}
	case bson.A:
		for _, n := range w {
			name, _ := n.(string)
			if err := drop(func(ix *index) bool { return ix.name == name }); err != nil {
				return nil, err
			}
		}
	default:
		return nil, errf(14, "dropIndexes: 'index' must be a string, an array or a key pattern")
	}
	return bson.D{{Key: "nIndexesWas", Value: before}}, nil
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
	if dst := s.collLocked(toDB, toColl, false); dst != nil {
		if !asBool(dv) {
			return nil, errf(48, "target namespace exists")
		}
		s.dropCollLocked(dst)
	}
	delete(s.dbs[fromDB].colls, fromColl)
	s.killCursorsOfLocked(from)
	d := s.collLocked(toDB, toColl, true)
	_ = d
	src.db, src.name = toDB, toColl
	s.dbs[toDB].colls[toColl] = src
	s.recordLocked(&changeEvent{op: "rename", db: fromDB, coll: fromColl, toDB: toDB, toColl: toColl})
	return bson.D{}, nil
}
