package mongotest

import (
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

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
		ix, err := s.createIndexLocked(c, spec)
		if err != nil {
			return nil, err
		}
		if ix != nil {
			s.recordCollLocked(c, &changeEvent{op: "createIndexes", desc: bson.D{{Key: "indexes", Value: bson.A{ix.spec}}}})
		}
	}
	return bson.D{
		{Key: "numIndexesBefore", Value: before},
		{Key: "numIndexesAfter", Value: int32(len(c.indexes))},
		{Key: "createdCollectionAutomatically", Value: created},
	}, nil
}

// createIndexLocked creates an index; nil (and no error) when an identical
// one exists.
func (s *Server) createIndexLocked(c *collection, spec bson.D) (*index, error) {
	kv, _ := lookupKey(spec, "key")
	key, ok := kv.(bson.D)
	if !ok || len(key) == 0 {
		return nil, errf(67, "Index key pattern must be a non-empty object")
	}
	nv, _ := lookupKey(spec, "name")
	name, ok := nv.(string)
	if !ok || name == "" {
		return nil, errf(9, "The 'name' field is a required property of an index specification")
	}
	for _, k := range []string{"partialFilterExpression", "collation", "wildcardProjection"} {
		if _, has := lookupKey(spec, k); has {
			return nil, errf(2, "mongotest does not support index option '%s'", k)
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
				return nil, errf(86, "An existing index has the same name as the requested index but different options: %s", name)
			}
			return nil, nil
		case have.name == name:
			return nil, errf(86, "An existing index has the same name as the requested index but a different key: %s", name)
		case sameKey && have.unique == ix.unique:
			return nil, errf(85, "Index already exists with a different name: %s", have.name)
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
					return nil, c.dupKeyError(ix, k)
				}
			}
		}
	}
	c.indexes = append(c.indexes, ix)
	return ix, nil
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
	dropped := func(ix *index) {
		s.recordCollLocked(c, &changeEvent{op: "dropIndexes", desc: bson.D{{Key: "indexes", Value: bson.A{ix.spec}}}})
	}
	drop := func(match func(*index) bool) error {
		for i, ix := range c.indexes[1:] {
			if match(ix) {
				c.indexes = slices.Delete(c.indexes, i+1, i+2)
				dropped(ix)
				return nil
			}
		}
		return errf(27, "index not found with spec %v", which)
	}
	switch w := which.(type) {
	case string:
		if w == "*" {
			for _, ix := range c.indexes[1:] {
				dropped(ix)
			}
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
