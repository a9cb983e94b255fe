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
	var dk *dupKeyError
	if errors.As(err, &dk) {
		return bson.D{
			{Key: "index", Value: int32(i)},
			{Key: "code", Value: dk.code},
			{Key: "keyPattern", Value: dk.keyPattern},
			{Key: "keyValue", Value: dk.keyValue},
			{Key: "errmsg", Value: dk.msg},
		}, true
	}
	var ce *cmdError
	if errors.As(err, &ce) {
		return bson.D{{Key: "index", Value: int32(i)}, {Key: "code", Value: ce.code}, {Key: "errmsg", Value: ce.msg}}, true
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
	return s.retryableLocked(x, func() (bson.D, error) {
		c := s.collLocked(x.db, coll, true)
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

// updateLocked applies one update statement.
func (s *Server) updateLocked(c *collection, filter bson.D, upd any, multi, upsert bool, sorted []*docEntry) (updateResult, error) {
	var res updateResult
	u, ok := upd.(bson.D)
	if !ok {
		if _, isPipeline := upd.(bson.A); isPipeline {
			return res, errf(2, "mongotest does not support pipeline-style updates")
		}
		return res, errf(14, "update must be a document")
	}
	targets := sorted
	if targets == nil {
		var err error
		targets, err = matchingLocked(c, filter, !multi)
		if err != nil {
			return res, err
		}
	}
	if !multi && len(targets) > 1 {
		targets = targets[:1]
	}
	for _, e := range targets {
		base, err := cloneDoc(e.doc)
		if err != nil {
			return res, err
		}
		newDoc, ch, replaced, err := mquery.ApplyUpdate(base, u, false)
		if err != nil {
			return res, err
		}
		if replaced && multi {
			return res, errf(9, "multi update is not supported for replacement-style update")
		}
		if replaced {
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
	replacement := len(u) > 0 && !strings.HasPrefix(u[0].Key, "$")
	seed, err := upsertSeed(filter, replacement)
	if err != nil {
		return res, err
	}
	newDoc, _, _, err := mquery.ApplyUpdate(seed, u, true)
	if err != nil {
		return res, err
	}
	if replacement {
		if id, ok := lookupKey(seed, "_id"); ok {
			newDoc = keepID(newDoc, id)
		}
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
	s.mu.Lock()
	defer s.mu.Unlock()
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
	for _, k := range []string{"arrayFilters", "collation", "c", "sort"} {
		if v, ok := lookupKey(st, k); ok && v != nil {
			return updateResult{}, errf(2, "mongotest does not support option '%s' of update", k)
		}
	}
	q, _ := lookupKey(st, "q")
	filter, _ := q.(bson.D)
	u, _ := lookupKey(st, "u")
	multi, _ := lookupKey(st, "multi")
	upsert, _ := lookupKey(st, "upsert")
	c := s.collLocked(x.db, coll, asBool(upsert))
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retryableLocked(x, func() (bson.D, error) {
		c := s.collLocked(x.db, coll, false)
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
	return s.retryableLocked(x, func() (bson.D, error) {
		c := s.collLocked(x.db, coll, asBool(upsertV))
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
		lastErr := bson.D{}
		if remove {
			if len(targets) == 1 {
				value = targets[0].doc
				s.deleteLocked(c, targets[0])
			}
			lastErr = bson.D{{Key: "n", Value: int32(len(targets))}}
		} else {
			if c == nil {
				targets = nil
			}
			res := updateResult{}
			if c != nil {
				if targets == nil {
					targets = []*docEntry{}
				}
				res, err = s.updateLocked(c, filter, update, false, asBool(upsertV), targets)
				if err != nil {
					return nil, err
				}
			}
			switch {
			case res.hasUpserted:
				if asBool(newV) {
					value = res.after
				}
			case res.matched > 0:
				value = res.before
				if asBool(newV) {
					value = res.after
				}
			}
			lastErr = bson.D{{Key: "n", Value: res.matched}, {Key: "updatedExisting", Value: res.matched > 0 && !res.hasUpserted}}
			if res.hasUpserted {
				lastErr = append(lastErr, bson.E{Key: "upserted", Value: res.upsertedID})
			}
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
