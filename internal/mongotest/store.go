package mongotest

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// database is one database: its collections by name.
type database struct {
	name  string
	colls map[string]*collection
}

// collection holds documents in insertion (natural) order. Stored documents
// are never modified in place: an update replaces the entry's document, so
// change events may keep references to them as images.
type collection struct {
	db, name string
	uuid     bson.Binary
	options  bson.D
	docs     []*docEntry
	byID     map[string]*docEntry
	indexes  []*index
	view     *viewDef // a view: no documents of its own
}

// viewDef is a view's definition.
type viewDef struct {
	on       string
	pipeline bson.A
}

type docEntry struct {
	doc bson.D
}

type index struct {
	name   string
	key    bson.D
	unique bool
	sparse bool
	spec   bson.D // as given to createIndexes (listIndexes shows it)
}

func newCollection(db, name string, options bson.D) *collection {
	uuid := bson.NewObjectID()
	data := make([]byte, 16)
	copy(data, uuid[:])
	if options == nil {
		options = bson.D{}
	}
	return &collection{
		db: db, name: name, options: options,
		uuid: bson.Binary{Subtype: 4, Data: data},
		byID: map[string]*docEntry{},
		indexes: []*index{{
			name: "_id_", key: bson.D{{Key: "_id", Value: int32(1)}}, unique: true,
			spec: bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}},
		}},
	}
}

// collLocked returns the collection, creating it (and its database) when
// create is set, as a write creates it implicitly; nil when it does not
// exist.
func (s *Server) collLocked(db, name string, create bool) *collection {
	if d := s.dbs[db]; d != nil {
		if c := d.colls[name]; c != nil || !create {
			return c
		}
	} else if !create {
		return nil
	}
	return s.createCollLocked(db, name, nil, nil)
}

// writableLocked is collLocked for a write: a view cannot be written.
func (s *Server) writableLocked(db, name string, create bool) (*collection, error) {
	c := s.collLocked(db, name, create)
	if c != nil && c.view != nil {
		return nil, errf(166, "Namespace %s.%s is a view, not a collection", db, name)
	}
	return c, nil
}

// databaseLocked returns the database, created when missing.
func (s *Server) databaseLocked(db string) *database {
	d := s.dbs[db]
	if d == nil {
		d = &database{name: db, colls: map[string]*collection{}}
		s.dbs[db] = d
	}
	return d
}

// createCollLocked creates a collection (a view when view is set) and
// records its create event, whose operationDescription holds the options.
func (s *Server) createCollLocked(db, name string, options bson.D, view *viewDef) *collection {
	c := newCollection(db, name, options)
	c.view = view
	s.databaseLocked(db).colls[name] = c
	desc := bson.D{}
	if view != nil {
		desc = append(desc, bson.E{Key: "viewOn", Value: view.on}, bson.E{Key: "pipeline", Value: view.pipeline})
	} else {
		desc = append(desc, c.options...)
		desc = append(desc, bson.E{Key: "idIndex", Value: c.indexes[0].spec})
	}
	s.recordCollLocked(c, &changeEvent{op: "create", desc: desc})
	return c
}

// recordCollLocked records an event of collection c.
func (s *Server) recordCollLocked(c *collection, ev *changeEvent) {
	ev.db, ev.coll, ev.uuid = c.db, c.name, c.uuid
	ev.images = c.imagesEnabled()
	s.recordLocked(ev)
}

// imagesEnabled reports whether changeStreamPreAndPostImages is on.
func (c *collection) imagesEnabled() bool {
	v, _ := lookupKey(c.options, "changeStreamPreAndPostImages")
	d, _ := v.(bson.D)
	en, _ := lookupKey(d, "enabled")
	return asBool(en)
}

// idKey is a map key for an _id value (numbers of equal value are equal).
func idKey(v any) string {
	switch n := v.(type) {
	case int32:
		v = float64(n)
	case int64:
		v = float64(n)
	case float64:
		if n == math.Trunc(n) {
			v = n
		}
	}
	b, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		return fmt.Sprintf("%T:%v", v, v)
	}
	return string(b)
}

func cloneDoc(d bson.D) (bson.D, error) {
	b, err := bson.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("clone document: %w", err)
	}
	var out bson.D
	if err := bson.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("clone document: %w", err)
	}
	if out == nil {
		out = bson.D{}
	}
	return out, nil
}

// withID returns doc with an _id first (a new ObjectID when missing).
func withID(doc bson.D) bson.D {
	for i, e := range doc {
		if e.Key == "_id" {
			if i == 0 {
				return doc
			}
			out := append(bson.D{e}, doc[:i]...)
			return append(out, doc[i+1:]...)
		}
	}
	return append(bson.D{{Key: "_id", Value: bson.NewObjectID()}}, doc...)
}

func docID(doc bson.D) any {
	v, _ := lookupKey(doc, "_id")
	return v
}

// checkUniqueLocked fails with E11000 when doc collides with another
// document (self excluded) on a unique index.
func (c *collection) checkUniqueLocked(doc bson.D, self *docEntry) error {
	if other, ok := c.byID[idKey(docID(doc))]; ok && other != self {
		return c.dupKeyError(c.indexes[0], bson.D{{Key: "_id", Value: docID(doc)}})
	}
	for _, ix := range c.indexes[1:] {
		if !ix.unique {
			continue
		}
		key, present := indexKey(doc, ix)
		if ix.sparse && !present {
			continue
		}
		for _, e := range c.docs {
			if e == self {
				continue
			}
			other, otherPresent := indexKey(e.doc, ix)
			if ix.sparse && !otherPresent {
				continue
			}
			if sameKey(key, other) {
				return c.dupKeyError(ix, key)
			}
		}
	}
	return nil
}

// indexKey returns the document's key for the index ({field: value}, null
// when missing) and whether any field was present.
func indexKey(doc bson.D, ix *index) (bson.D, bool) {
	key := make(bson.D, 0, len(ix.key))
	present := false
	for _, f := range ix.key {
		v, ok := mquery.Lookup(doc, f.Key)
		if ok {
			present = true
		} else {
			v = nil
		}
		key = append(key, bson.E{Key: f.Key, Value: v})
	}
	return key, present
}

func sameKey(a, b bson.D) bool {
	for i := range a {
		if mquery.Compare(a[i].Value, b[i].Value) != 0 {
			return false
		}
	}
	return true
}

func (c *collection) dupKeyError(ix *index, key bson.D) error {
	parts := make([]string, 0, len(key))
	for _, e := range key {
		v, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: e.Value}}, false, false)
		val := fmt.Sprint(e.Value)
		if err == nil {
			val = strings.TrimSuffix(strings.TrimPrefix(string(v), `{"v":`), "}")
		}
		parts = append(parts, e.Key+": "+val)
	}
	msg := fmt.Sprintf("E11000 duplicate key error collection: %s.%s index: %s dup key: { %s }",
		c.db, c.name, ix.name, strings.Join(parts, ", "))
	return &cmdError{code: 11000, codeName: "DuplicateKey", msg: msg,
		extra: bson.D{{Key: "keyPattern", Value: ix.key}, {Key: "keyValue", Value: key}}}
}

// insertLocked inserts doc (an _id is added when missing) and records the
// change event.
func (s *Server) insertLocked(c *collection, doc bson.D) (bson.D, error) {
	doc = withID(doc)
	if err := checkID(docID(doc)); err != nil {
		return nil, err
	}
	if err := s.validateLocked(c, doc, nil); err != nil {
		return nil, err
	}
	if err := c.checkUniqueLocked(doc, nil); err != nil {
		return nil, err
	}
	e := &docEntry{doc: doc}
	c.docs = append(c.docs, e)
	c.byID[idKey(docID(doc))] = e
	s.recordCollLocked(c, &changeEvent{op: "insert", key: docID(doc), post: doc})
	return doc, nil
}

// replaceLocked stores the new version of an entry's document and records
// the change event (update or replace). It reports false when nothing
// changed (no event then).
func (s *Server) replaceLocked(c *collection, e *docEntry, newDoc bson.D, ch mquery.Changes, replaced bool) (bool, error) {
	oldID := docID(e.doc)
	newDoc = withID(newDoc)
	if idKey(oldID) != idKey(docID(newDoc)) {
		return false, errf(66, "Performing an update on the path '_id' would modify the immutable field '_id'")
	}
	if sameDoc(e.doc, newDoc) {
		return false, nil
	}
	if err := s.validateLocked(c, newDoc, e.doc); err != nil {
		return false, err
	}
	if err := c.checkUniqueLocked(newDoc, e); err != nil {
		return false, err
	}
	pre := e.doc
	e.doc = newDoc
	ev := &changeEvent{op: "update", key: oldID, pre: pre, post: newDoc}
	if replaced {
		ev.op = "replace"
	} else {
		ev.changes = ch
	}
	s.recordCollLocked(c, ev)
	return true, nil
}

func (s *Server) deleteLocked(c *collection, e *docEntry) {
	i := slices.Index(c.docs, e)
	if i >= 0 {
		c.docs = slices.Delete(c.docs, i, i+1)
	}
	delete(c.byID, idKey(docID(e.doc)))
	s.recordCollLocked(c, &changeEvent{op: "delete", key: docID(e.doc), pre: e.doc})
}

func sameDoc(a, b bson.D) bool {
	ra, err1 := bson.Marshal(a)
	rb, err2 := bson.Marshal(b)
	return err1 == nil && err2 == nil && string(ra) == string(rb)
}

// checkID rejects what MongoDB does not store as an _id: an array, a
// regular expression, undefined, or a document with a $-prefixed field.
func checkID(id any) error {
	switch v := id.(type) {
	case bson.A:
		return errf(53, "The '_id' value cannot be of type array")
	case bson.Regex:
		return errf(53, "The '_id' value cannot be of type regex")
	case bson.Undefined:
		return errf(53, "The '_id' value cannot be of type undefined")
	case bson.D:
		for _, e := range v {
			if strings.HasPrefix(e.Key, "$") {
				return errf(52, "_id fields may not contain '$'-prefixed fields: %s is not valid for storage.", e.Key)
			}
		}
	}
	return nil
}
