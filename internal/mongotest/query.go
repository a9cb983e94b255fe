package mongotest

import (
	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// snapshot returns the documents of a collection (or view) matching filter
// (stored documents are immutable, so they may be read after unlocking).
func (s *Server) snapshot(db, coll string, filter bson.D) ([]bson.D, error) {
	s.mu.Lock()
	docs, err := s.viewDocsLocked(db, coll, 0)
	s.mu.Unlock()
	if err != nil || filter == nil {
		return docs, err
	}
	out := docs[:0]
	for _, d := range docs {
		ok, err := mquery.Match(d, filter)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// maxViewDepth is how deep views may be defined on views (MongoDB's limit).
const maxViewDepth = 20

// viewDocsLocked returns a collection's documents, or a view's: its
// pipeline run over the documents of what it is defined on.
func (s *Server) viewDocsLocked(db, coll string, depth int) ([]bson.D, error) {
	c := s.collLocked(db, coll, false)
	if c == nil {
		return nil, nil
	}
	if c.view == nil {
		out := make([]bson.D, 0, len(c.docs))
		for _, e := range c.docs {
			out = append(out, e.doc)
		}
		return out, nil
	}
	if depth >= maxViewDepth {
		return nil, errf(165, "View depth too deep or view cycle detected; maximum depth is %d", maxViewDepth)
	}
	src, err := s.viewDocsLocked(db, c.view.on, depth+1)
	if err != nil {
		return nil, err
	}
	return mquery.Aggregate(src, c.view.pipeline)
}

func skipLimit(docs []bson.D, skip, limit int64) []bson.D {
	if skip > 0 {
		if skip >= int64(len(docs)) {
			return nil
		}
		docs = docs[skip:]
	}
	if limit > 0 && limit < int64(len(docs)) {
		docs = docs[:limit]
	}
	return docs
}

func (s *Server) cmdFind(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	if err := x.rejectUnsupported("collation", "let", "min", "max"); err != nil {
		return nil, err
	}
	for _, k := range []string{"returnKey", "showRecordId", "tailable", "awaitData"} {
		if v, ok := x.get(k); ok && asBool(v) {
			return nil, errf(2, "mongotest does not support option '%s' of find", k)
		}
	}
	filter, err := x.optDoc("filter")
	if err != nil {
		return nil, err
	}
	sortSpec, err := x.optDoc("sort")
	if err != nil {
		return nil, err
	}
	projection, err := x.optDoc("projection")
	if err != nil {
		return nil, err
	}
	skip, _, err := x.optInt("skip")
	if err != nil {
		return nil, err
	}
	limit, _, err := x.optInt("limit")
	if err != nil {
		return nil, err
	}
	batchSize, hasBatch, err := x.optInt("batchSize")
	if err != nil {
		return nil, err
	}
	if skip < 0 || batchSize < 0 {
		return nil, errf(51024, "skip and batchSize must be non-negative")
	}
	sv, _ := x.get("singleBatch")
	single := asBool(sv)
	if limit < 0 {
		limit, single = -limit, true
	}
	docs, err := s.snapshot(x.db, coll, filter)
	if err != nil {
		return nil, err
	}
	if len(sortSpec) > 0 && len(docs) > 1 {
		if err := mquery.Sort(docs, sortSpec); err != nil {
			return nil, err
		}
	}
	docs = skipLimit(docs, skip, limit)
	if len(projection) > 0 {
		for i, d := range docs {
			p, err := mquery.Project(d, projection)
			if err != nil {
				return nil, err
			}
			docs[i] = p
		}
	}
	if !hasBatch {
		batchSize = -1
	}
	if limit > 0 && (batchSize < 0 || batchSize > limit) {
		batchSize = limit
	}
	return s.plainCursorReply(x.db+"."+coll, docs, batchSize, single), nil
}

func (s *Server) cmdCount(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	if err := x.rejectUnsupported("collation"); err != nil {
		return nil, err
	}
	filter, err := x.optDoc("query")
	if err != nil {
		return nil, err
	}
	skip, _, err := x.optInt("skip")
	if err != nil {
		return nil, err
	}
	limit, _, err := x.optInt("limit")
	if err != nil {
		return nil, err
	}
	if limit < 0 {
		limit = -limit
	}
	docs, err := s.snapshot(x.db, coll, filter)
	if err != nil {
		return nil, err
	}
	return bson.D{{Key: "n", Value: int32(len(skipLimit(docs, skip, limit)))}}, nil
}

func (s *Server) cmdDistinct(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	if err := x.rejectUnsupported("collation"); err != nil {
		return nil, err
	}
	kv, _ := x.get("key")
	key, ok := kv.(string)
	if !ok {
		return nil, errf(14, "distinct: key must be a string")
	}
	filter, err := x.optDoc("query")
	if err != nil {
		return nil, err
	}
	docs, err := s.snapshot(x.db, coll, filter)
	if err != nil {
		return nil, err
	}
	values := bson.A{}
	add := func(v any) {
		for _, have := range values {
			if mquery.Compare(have, v) == 0 && sameDoc(bson.D{{Key: "v", Value: have}}, bson.D{{Key: "v", Value: v}}) {
				return
			}
		}
		values = append(values, v)
	}
	for _, d := range docs {
		v, ok := mquery.Lookup(d, key)
		if !ok {
			continue
		}
		if arr, isArr := v.(bson.A); isArr {
			for _, e := range arr {
				add(e)
			}
			continue
		}
		add(v)
	}
	return bson.D{{Key: "values", Value: values}}, nil
}

func (s *Server) cmdAggregate(x *cmdCtx) (bson.D, error) {
	pv, _ := x.get("pipeline")
	pipeline, ok := pv.(bson.A)
	if !ok {
		return nil, errf(14, "'pipeline' option must be specified as an array")
	}
	if err := x.rejectUnsupported("collation", "let"); err != nil {
		return nil, err
	}
	if v, ok := x.get("explain"); ok && asBool(v) {
		return nil, errf(2, "mongotest does not support explain")
	}
	cv, hasCursor := x.get("cursor")
	cursorOpts, isDoc := cv.(bson.D)
	if !hasCursor || !isDoc {
		return nil, errf(9, "The 'cursor' option is required, except for aggregate with the explain argument")
	}
	batchSize := int64(-1)
	if v, ok := lookupKey(cursorOpts, "batchSize"); ok {
		n, isNum := asInt64(v)
		if !isNum || n < 0 {
			return nil, errf(2, "cursor.batchSize must be a non-negative number")
		}
		batchSize = n
	}
	coll := ""
	switch v := x.cmd[0].Value.(type) {
	case string:
		coll = v
	default:
		if n, ok := asInt64(v); !ok || n != 1 {
			return nil, errf(73, "aggregate: collection name must be a string or 1")
		}
	}
	for i, raw := range pipeline {
		stage, ok := raw.(bson.D)
		if !ok || len(stage) != 1 {
			return nil, errf(40323, "A pipeline stage specification object must contain exactly one field.")
		}
		switch stage[0].Key {
		case "$changeStream":
			if i != 0 {
				return nil, errf(40602, "$changeStream is only valid as the first stage in a pipeline.")
			}
			spec, ok := stage[0].Value.(bson.D)
			if !ok {
				return nil, errf(50808, "$changeStream stage expects a document as argument")
			}
			return s.openChangeStream(x, coll, spec, pipeline[1:], batchSize)
		case "$out", "$merge", "$lookup", "$graphLookup", "$unionWith", "$facet":
			return nil, errf(2, "mongotest does not support the %s stage", stage[0].Key)
		}
	}
	var docs []bson.D
	var err error
	switch {
	case coll != "":
		docs, err = s.snapshot(x.db, coll, nil)
	case len(pipeline) > 0 && stageName(pipeline[0]) == "$listLocalSessions":
		if x.db != "admin" {
			return nil, errf(73, "$listLocalSessions must be run against the 'admin' database with {aggregate: 1}")
		}
		docs, pipeline = s.localSessions(), pipeline[1:]
	default:
		return nil, errf(2, "mongotest supports database-level aggregate only with $changeStream or $listLocalSessions")
	}
	if err != nil {
		return nil, err
	}
	for i, d := range docs { // the pipeline may modify its input
		if docs[i], err = cloneDoc(d); err != nil {
			return nil, err
		}
	}
	out, err := mquery.Aggregate(docs, pipeline)
	if err != nil {
		return nil, err
	}
	return s.plainCursorReply(x.db+"."+coll, out, batchSize, false), nil
}

func stageName(raw any) string {
	if d, ok := raw.(bson.D); ok && len(d) > 0 {
		return d[0].Key
	}
	return ""
}
