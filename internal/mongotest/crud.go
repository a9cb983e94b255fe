package mongotest

import (
	"errors"
	"strings"

	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// writeErrorDoc converts a per-statement error into a writeErrors entry;
// ok is false for errors that must fail the whole command.
func writeErrorDoc(i int, err error) (bson.D, bool) {
	var ce *cmdError
	if errors.As(err, &ce) {
		d := bson.D{{Key: "index", Value: int32(i)}, {Key: "code", Value: ce.code}}
		d = append(d, ce.extra...)
		return append(d, bson.E{Key: "errmsg", Value: ce.msg}), true
	}
	var me *mquery.Error
	if errors.As(err, &me) {
		return bson.D{{Key: "index", Value: int32(i)}, {Key: "code", Value: me.Code}, {Key: "errmsg", Value: me.Msg}}, true
	}
	return nil, false
}

// statements reads a write command's array of documents.
func (x *cmdCtx) statements(key string) ([]bson.D, error) {
	v, ok := x.get(key)
	arr, isArr := v.(bson.A)
	if !ok || !isArr {
		return nil, errf(40414, "BSON field '%s.%s' is missing but a required field", x.name, key)
	}
	out := make([]bson.D, 0, len(arr))
	for _, e := range arr {
		d, ok := e.(bson.D)
		if !ok {
			return nil, errf(14, "BSON field '%s.%s' must hold documents", x.name, key)
		}
		out = append(out, d)
	}
	return out, nil
}

func (x *cmdCtx) ordered() bool {
	v, ok := x.get("ordered")
	return !ok || asBool(v)
}

func (s *Server) cmdInsert(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	docs, err := x.statements("documents")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bypassingLocked(x)()
	return s.retryableLocked(x, func() (bson.D, error) {
		c, err := s.writableLocked(x.db, coll, true)
		if err != nil {
			return nil, err
		}
		n := int32(0)
		werrs := bson.A{}
		for i, d := range docs {
			if _, err := s.insertLocked(c, d); err != nil {
				we, ok := writeErrorDoc(i, err)
				if !ok {
					return nil, err
				}
				werrs = append(werrs, we)
				if x.ordered() {
					break
				}
				continue
			}
			n++
		}
		r := bson.D{{Key: "n", Value: n}}
		if len(werrs) > 0 {
			r = append(r, bson.E{Key: "writeErrors", Value: werrs})
		}
		return r, nil
	})
}

// matchingLocked returns the entries matching filter, in natural order (at
// most one when first is set).
func matchingLocked(c *collection, filter bson.D, first bool) ([]*docEntry, error) {
	if c == nil {
		return nil, nil
	}
	var out []*docEntry
	for _, e := range c.docs {
		ok, err := mquery.Match(e.doc, filter)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, e)
			if first {
				break
			}
		}
	}
	return out, nil
}

// upsertSeed builds the document an upsert starts from: the equality
// conditions of the filter (for a replacement, only its _id).
func upsertSeed(filter bson.D, replacement bool) (bson.D, error) {
	eqs := bson.D{}
	collectEqualities(filter, &eqs)
	if replacement {
		for _, e := range eqs {
			if e.Key == "_id" {
				return bson.D{e}, nil
			}
		}
		return bson.D{}, nil
	}
	if len(eqs) == 0 {
		return bson.D{}, nil
	}
	seed, _, _, err := mquery.ApplyUpdate(bson.D{}, bson.D{{Key: "$set", Value: eqs}}, true)
	if err != nil {
		return nil, err
	}
	return seed, nil
}

func collectEqualities(filter bson.D, out *bson.D) {
	for _, e := range filter {
		if e.Key == "$and" {
			if arr, ok := e.Value.(bson.A); ok {
				for _, sub := range arr {
					if d, ok := sub.(bson.D); ok {
						collectEqualities(d, out)
					}
				}
			}
			continue
		}
		if strings.HasPrefix(e.Key, "$") {
			continue
		}
		if d, ok := e.Value.(bson.D); ok && len(d) > 0 && strings.HasPrefix(d[0].Key, "$") {
			if len(d) == 1 && d[0].Key == "$eq" {
				*out = append(*out, bson.E{Key: e.Key, Value: d[0].Value})
			}
			continue
		}
		*out = append(*out, e)
	}
}

// updateResult is what one update statement did.
type updateResult struct {
	matched, modified int32
	upsertedID        any
	hasUpserted       bool
	before, after     bson.D // first matched document before/after (findAndModify)
}

// updateLocked applies one update statement: an operator document, a
// replacement document or an aggregation pipeline (array).
func (s *Server) updateLocked(c *collection, filter bson.D, upd any, multi, upsert bool, sorted []*docEntry) (updateResult, error) {
	var res updateResult
	u, err := parseUpdateSpec(upd)
	if err != nil {
		return res, err
	}
	targets := sorted
	if targets == nil {
		targets, err = matchingLocked(c, filter, !multi)
		if err != nil {
			return res, err
		}
	}
	if !multi && len(targets) > 1 {
		targets = targets[:1]
	}
	for _, e := range targets {
		newDoc, ch, replaced, err := u.apply(e.doc, false)
		if err != nil {
			return res, err
		}
		if u.replacement && multi {
			return res, errf(9, "multi update is not supported for replacement-style update")
		}
		if u.replacement {
			newDoc = keepID(newDoc, docID(e.doc))
		}
		before := e.doc
		changed, err := s.replaceLocked(c, e, newDoc, ch, replaced)
		if err != nil {
			return res, err
		}
		if res.matched == 0 {
			res.before, res.after = before, e.doc
		}
		res.matched++
		if changed {
			res.modified++
		}
	}
	if len(targets) > 0 || !upsert {
		return res, nil
	}
	seed, err := upsertSeed(filter, u.replacement)
	if err != nil {
		return res, err
	}
	newDoc, _, _, err := u.apply(seed, true)
	if err != nil {
		return res, err
	}
	if id, ok := lookupKey(seed, "_id"); ok && (u.replacement || u.pipeline != nil) {
		newDoc = keepID(newDoc, id)
	}
	inserted, err := s.insertLocked(c, newDoc)
	if err != nil {
		return res, err
	}
	res.matched = 1
	res.hasUpserted = true
	res.upsertedID = docID(inserted)
	res.after = inserted
	return res, nil
}

// updateSpec is a parsed update: operators, a replacement or a pipeline.
type updateSpec struct {
	doc         bson.D
	pipeline    bson.A
	replacement bool
}

// updatePipelineStages are the stages an update pipeline may hold.
var updatePipelineStages = map[string]bool{
	"$addFields": true, "$set": true, "$project": true, "$unset": true, "$replaceRoot": true, "$replaceWith": true,
}

func parseUpdateSpec(upd any) (updateSpec, error) {
	switch u := upd.(type) {
	case bson.D:
		return updateSpec{doc: u, replacement: len(u) == 0 || !strings.HasPrefix(u[0].Key, "$")}, nil
	case bson.A:
		for _, raw := range u {
			st, ok := raw.(bson.D)
			if !ok || len(st) != 1 {
				return updateSpec{}, errf(40323, "A pipeline stage specification object must contain exactly one field.")
			}
			if !updatePipelineStages[st[0].Key] {
				if _, known := knownStages[st[0].Key]; !known {
					return updateSpec{}, errf(40324, "Unrecognized pipeline stage name: '%s'", st[0].Key)
				}
				return updateSpec{}, errf(72, "%s is not allowed to be used within an update", st[0].Key)
			}
		}
		return updateSpec{pipeline: u}, nil
	}
	return updateSpec{}, errf(9, "Update argument must be either an object or an array")
}

// apply computes the new version of doc and what changed (replaced: the
// change is a replacement event).
func (u updateSpec) apply(doc bson.D, insert bool) (bson.D, mquery.Changes, bool, error) {
	if u.pipeline == nil {
		base, err := cloneDoc(doc)
		if err != nil {
			return nil, mquery.Changes{}, false, err
		}
		return mquery.ApplyUpdate(base, u.doc, insert)
	}
	base, err := cloneDoc(doc)
	if err != nil {
		return nil, mquery.Changes{}, false, err
	}
	out, err := mquery.Aggregate([]bson.D{base}, u.pipeline)
	if err != nil {
		return nil, mquery.Changes{}, false, err
	}
	if len(out) != 1 {
		return nil, mquery.Changes{}, false, errf(2, "an update pipeline must produce one document")
	}
	newDoc := out[0]
	if id, ok := lookupKey(doc, "_id"); ok {
		newDoc = keepID(newDoc, id) // a result without _id keeps the document's
	}
	newDoc = withID(newDoc)
	if id, ok := lookupKey(doc, "_id"); ok && idKey(id) != idKey(docID(newDoc)) {
		return nil, mquery.Changes{}, false, errf(66, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: %v", docID(newDoc))
	}
	ch, ok := mquery.DiffUpdate(doc, newDoc)
	return newDoc, ch, !ok, nil
}

// keepID gives a replacement document the _id it must keep (first field).
func keepID(doc bson.D, id any) bson.D {
	if id == nil {
		return doc
	}
	if _, ok := lookupKey(doc, "_id"); ok {
		return withID(doc)
	}
	return append(bson.D{{Key: "_id", Value: id}}, doc...)
}

func (s *Server) cmdUpdate(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	stmts, err := x.statements("updates")
	if err != nil {
		return nil, err
	}
	if err := checkStatementFields("update.updates", stmts, updateStatementFields); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bypassingLocked(x)()
	return s.retryableLocked(x, func() (bson.D, error) {
		var n, modified int32
		upserted, werrs := bson.A{}, bson.A{}
		for i, st := range stmts {
			res, err := s.updateStatementLocked(x, coll, st)
			if err != nil {
				we, ok := writeErrorDoc(i, err)
				if !ok {
					return nil, err
				}
				werrs = append(werrs, we)
				if x.ordered() {
					break
				}
				continue
			}
			n += res.matched
			if res.hasUpserted {
				upserted = append(upserted, bson.D{{Key: "index", Value: int32(i)}, {Key: "_id", Value: res.upsertedID}})
			} else {
				modified += res.modified
			}
		}
		r := bson.D{{Key: "n", Value: n}, {Key: "nModified", Value: modified}}
		if len(upserted) > 0 {
			r = append(r, bson.E{Key: "upserted", Value: upserted})
		}
		if len(werrs) > 0 {
			r = append(r, bson.E{Key: "writeErrors", Value: werrs})
		}
		return r, nil
	})
}

func (s *Server) updateStatementLocked(x *cmdCtx, coll string, st bson.D) (updateResult, error) {
	for _, k := range []string{"arrayFilters", "collation", "c"} {
		if v, ok := lookupKey(st, k); ok && v != nil {
			return updateResult{}, errf(2, "mongotest does not support option '%s' of update", k)
		}
	}
	q, _ := lookupKey(st, "q")
	filter, _ := q.(bson.D)
	u, _ := lookupKey(st, "u")
	multi, _ := lookupKey(st, "multi")
	upsert, _ := lookupKey(st, "upsert")
	c, err := s.writableLocked(x.db, coll, asBool(upsert))
	if err != nil {
		return updateResult{}, err
	}
	if c == nil {
		return updateResult{}, nil
	}
	return s.updateLocked(c, filter, u, asBool(multi), asBool(upsert), nil)
}

func (s *Server) cmdDelete(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	stmts, err := x.statements("deletes")
	if err != nil {
		return nil, err
	}
	if err := checkStatementFields("delete.deletes", stmts, deleteStatementFields); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bypassingLocked(x)()
	return s.retryableLocked(x, func() (bson.D, error) {
		c, err := s.writableLocked(x.db, coll, false)
		if err != nil {
			return nil, err
		}
		var n int32
		werrs := bson.A{}
		for i, st := range stmts {
			deleted, err := s.deleteStatementLocked(c, st)
			n += deleted
			if err != nil {
				we, ok := writeErrorDoc(i, err)
				if !ok {
					return nil, err
				}
				werrs = append(werrs, we)
				if x.ordered() {
					break
				}
			}
		}
		r := bson.D{{Key: "n", Value: n}}
		if len(werrs) > 0 {
			r = append(r, bson.E{Key: "writeErrors", Value: werrs})
		}
		return r, nil
	})
}

func (s *Server) deleteStatementLocked(c *collection, st bson.D) (int32, error) {
	if v, ok := lookupKey(st, "collation"); ok && v != nil {
		return 0, errf(2, "mongotest does not support option 'collation' of delete")
	}
	q, _ := lookupKey(st, "q")
	filter, _ := q.(bson.D)
	lim, _ := lookupKey(st, "limit")
	limit, _ := asInt64(lim)
	if limit != 0 && limit != 1 {
		return 0, errf(9, "The limit field in delete objects must be 0 or 1. Got %d", limit)
	}
	targets, err := matchingLocked(c, filter, limit == 1)
	if err != nil {
		return 0, err
	}
	for _, e := range targets {
		s.deleteLocked(c, e)
	}
	return int32(len(targets)), nil
}

func (s *Server) cmdFindAndModify(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	if err := x.rejectUnsupported("arrayFilters", "collation", "let"); err != nil {
		return nil, err
	}
	filter, err := x.optDoc("query")
	if err != nil {
		return nil, err
	}
	sortSpec, err := x.optDoc("sort")
	if err != nil {
		return nil, err
	}
	fields, err := x.optDoc("fields")
	if err != nil {
		return nil, err
	}
	removeV, _ := x.get("remove")
	update, hasUpdate := x.get("update")
	newV, _ := x.get("new")
	upsertV, _ := x.get("upsert")
	remove := asBool(removeV)
	if remove == hasUpdate {
		return nil, errf(9, "Either an update or remove=true must be specified")
	}
	if remove && (asBool(upsertV) || asBool(newV)) {
		return nil, errf(9, "Cannot specify both an update and remove=true, or upsert/new with remove")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bypassingLocked(x)()
	return s.retryableLocked(x, func() (bson.D, error) {
		c, err := s.writableLocked(x.db, coll, asBool(upsertV))
		if err != nil {
			return nil, err
		}
		targets, err := matchingLocked(c, filter, sortSpec == nil)
		if err != nil {
			return nil, err
		}
		if sortSpec != nil && len(targets) > 1 {
			if targets, err = sortEntries(targets, sortSpec); err != nil {
				return nil, err
			}
		}
		if len(targets) > 1 {
			targets = targets[:1]
		}
		var value any
		var lastErr bson.D
		if remove {
			if len(targets) == 1 {
				value = targets[0].doc
				s.deleteLocked(c, targets[0])
			}
			lastErr = bson.D{{Key: "n", Value: int32(len(targets))}}
		} else if value, lastErr, err = s.findAndUpdateLocked(c, filter, update, targets, asBool(upsertV), asBool(newV)); err != nil {
			return nil, err
		}
		if d, ok := value.(bson.D); ok && fields != nil {
			p, err := mquery.Project(d, fields)
			if err != nil {
				return nil, err
			}
			value = p
		}
		return bson.D{{Key: "lastErrorObject", Value: lastErr}, {Key: "value", Value: value}}, nil
	})
}

// findAndUpdateLocked is findAndModify's update of its first target (an
// upsert when there is none): the value to return and lastErrorObject.
func (s *Server) findAndUpdateLocked(c *collection, filter bson.D, update any, targets []*docEntry, upsert, returnNew bool) (any, bson.D, error) {
	res := updateResult{}
	if c != nil {
		if targets == nil {
			targets = []*docEntry{}
		}
		var err error
		if res, err = s.updateLocked(c, filter, update, false, upsert, targets); err != nil {
			return nil, nil, err
		}
	}
	var value any
	switch {
	case res.hasUpserted:
		if returnNew {
			value = res.after
		}
	case res.matched > 0:
		value = res.before
		if returnNew {
			value = res.after
		}
	}
	lastErr := bson.D{{Key: "n", Value: res.matched}, {Key: "updatedExisting", Value: res.matched > 0 && !res.hasUpserted}}
	if res.hasUpserted {
		lastErr = append(lastErr, bson.E{Key: "upserted", Value: res.upsertedID})
	}
	return value, lastErr, nil
}

// sortEntries sorts entries by their documents.
func sortEntries(entries []*docEntry, spec bson.D) ([]*docEntry, error) {
	docs := make([]bson.D, len(entries))
	byDoc := make(map[*bson.E]*docEntry, len(entries))
	for i, e := range entries {
		docs[i] = e.doc
		if len(e.doc) > 0 {
			byDoc[&e.doc[0]] = e
		}
	}
	if err := mquery.Sort(docs, spec); err != nil {
		return nil, err
	}
	out := make([]*docEntry, 0, len(docs))
	for _, d := range docs {
		if len(d) > 0 {
			if e, ok := byDoc[&d[0]]; ok {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// knownStages are MongoDB 7.0's aggregation stage names (an unknown one is
// error 40324).
var knownStages = map[string]bool{
	"$addFields": true, "$bucket": true, "$bucketAuto": true, "$changeStream": true,
	"$changeStreamSplitLargeEvent": true, "$collStats": true, "$count": true, "$currentOp": true,
	"$densify": true, "$documents": true, "$facet": true, "$fill": true, "$geoNear": true,
	"$graphLookup": true, "$group": true, "$indexStats": true, "$limit": true,
	"$listLocalSessions": true, "$listSampledQueries": true, "$listSearchIndexes": true,
	"$listSessions": true, "$lookup": true, "$match": true, "$merge": true, "$out": true,
	"$planCacheStats": true, "$project": true, "$redact": true, "$replaceRoot": true,
	"$replaceWith": true, "$sample": true, "$search": true, "$searchMeta": true, "$set": true,
	"$setWindowFields": true, "$shardedDataDistribution": true, "$skip": true, "$sort": true,
	"$sortByCount": true, "$unionWith": true, "$unset": true, "$unwind": true,
	"$vectorSearch": true,
}

// The fields of update and delete statements in MongoDB 7.0 (an update's
// sort came in 8.0): any other fails the whole command.
var (
	updateStatementFields = map[string]bool{
		"q": true, "u": true, "c": true, "upsert": true, "multi": true, "arrayFilters": true,
		"hint": true, "collation": true, "upsertSupplied": true,
	}
	deleteStatementFields = map[string]bool{"q": true, "limit": true, "hint": true, "collation": true}
)

func checkStatementFields(where string, stmts []bson.D, known map[string]bool) error {
	for _, st := range stmts {
		for _, e := range st {
			if !known[e.Key] {
				return errf(40415, "BSON field '%s.%s' is an unknown field.", where, e.Key)
			}
		}
	}
	return nil
}
