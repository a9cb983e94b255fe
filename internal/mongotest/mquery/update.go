package mquery

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Changes describes what an update did, in change-stream terms.
type Changes struct {
	Updated   bson.D       // dotted path -> new value (updateDescription.updatedFields)
	Removed   []string     // dotted paths (updateDescription.removedFields)
	Truncated []Truncation // shortened arrays (updateDescription.truncatedArrays)
	// Disambiguated maps each ambiguous dotted path of the above (a field
	// name with a dot, or a numeric field name) to its components, array
	// indices as int32 (updateDescription.disambiguatedPaths).
	Disambiguated bson.D
}

// Truncation is an array shortened to NewSize elements.
type Truncation struct {
	Field   string
	NewSize int32
}

// ApplyUpdate applies update (an operator document such as {$set: ...}, or a
// replacement document) to doc and returns the new document. insert is true
// when the update runs as the insert half of an upsert ($setOnInsert applies).
// replaced is true when update was a replacement document. doc itself is
// never modified.
//
// Supported operators: $set, $unset, $inc, $min, $max, $push and $addToSet
// (plain value or $each), $rename, $currentDate, $setOnInsert. Operators
// are applied in the order of their field paths, as MongoDB 5+ does, so new
// fields are appended in that order.
func ApplyUpdate(doc bson.D, update bson.D, insert bool) (out bson.D, ch Changes, replaced bool, err error) {
	if len(update) == 0 || !strings.HasPrefix(update[0].Key, "$") {
		out, err = replaceDoc(doc, update)
		if err != nil {
			return nil, Changes{}, true, err
		}
		return out, Changes{}, true, nil
	}
	ops, err := parseUpdate(doc, update, insert)
	if err != nil {
		return nil, Changes{}, false, err
	}
	out = copyDoc(doc)
	var rec changeRecorder
	for _, op := range ops {
		if out, err = op.apply(out, &rec); err != nil {
			return nil, Changes{}, false, err
		}
	}
	if err := checkIDUnchanged(doc, out); err != nil {
		return nil, Changes{}, false, err
	}
	return out, rec.changes(doc, out), false, nil
}

// replaceDoc implements a replacement-style update: the new document is the
// replacement, keeping the _id of the old one (which it may not change).
func replaceDoc(doc, repl bson.D) (bson.D, error) {
	for _, e := range repl {
		if strings.HasPrefix(e.Key, "$") {
			return nil, newError(CodeDollarPrefixedFieldName,
				"The dollar ($) prefixed field '%s' in '%s' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.", e.Key, e.Key)
		}
	}
	oldID, hasOld := field(doc, "_id")
	newID, hasNew := field(repl, "_id")
	if hasOld && hasNew && !identical(oldID, newID) {
		return nil, newError(CodeImmutableField,
			"After applying the update, the (immutable) field '_id' was found to have been altered to _id: %s", formatValue(newID))
	}
	out := make(bson.D, 0, len(repl)+1)
	switch {
	case hasNew:
		out = append(out, bson.E{Key: "_id", Value: deepCopy(newID)})
	case hasOld:
		out = append(out, bson.E{Key: "_id", Value: deepCopy(oldID)})
	}
	for _, e := range repl {
		if e.Key != "_id" {
			out = append(out, bson.E{Key: e.Key, Value: deepCopy(e.Value)})
		}
	}
	return out, nil
}

func checkIDUnchanged(before, after bson.D) error {
	oldID, ok := field(before, "_id")
	if !ok {
		return nil
	}
	newID, ok := field(after, "_id")
	if ok && identical(oldID, newID) {
		return nil
	}
	return newError(CodeImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'")
}

// updateOp is one parsed field modification.
type updateOp struct {
	name  string   // the operator, e.g. "$set"
	parts []string // target path
	from  []string // $rename: source path
	fn    leafFn
}

// parseUpdate validates an operator update and returns its modifications in
// application order.
func parseUpdate(doc bson.D, update bson.D, insert bool) ([]updateOp, error) {
	idDesc := "{}"
	if id, ok := field(doc, "_id"); ok {
		idDesc = formatElem("_id", id)
	}
	var ops []updateOp
	var touched [][]string
	for _, u := range update {
		fields, ok := u.Value.(bson.D)
		if !ok {
			if !strings.HasPrefix(u.Key, "$") || !knownUpdateOperator(u.Key) {
				return nil, unknownModifier(u.Key)
			}
			return nil, newError(CodeFailedToParse,
				"Modifiers operate on fields but we found type %s instead. For example: {$mod: {<field>: ...}} not {%s: %s}",
				bsonType(u.Value), u.Key, formatValue(u.Value))
		}
		for _, f := range fields {
			parts, err := parseUpdatePath(f.Key)
			if err != nil {
				return nil, err
			}
			op := updateOp{name: u.Key, parts: parts}
			switch u.Key {
			case "$set":
				op.fn = setFn(f.Value)
			case "$setOnInsert":
				op.fn = setFn(f.Value)
				if !insert {
					op.fn = nil
				}
			case "$unset":
				op.fn = unsetFn
			case "$inc":
				op.fn, err = incFn(f.Key, f.Value, idDesc)
			case "$min", "$max":
				op.fn = minMaxFn(u.Key == "$min", f.Value)
			case "$currentDate":
				op.fn, err = currentDateFn(f.Value)
			case "$push", "$addToSet":
				op.fn, err = pushFn(u.Key, parts, f.Value, idDesc)
			case "$rename":
				op.from = parts
				op.parts, err = parseRenameTarget(f.Key, f.Value)
			default:
				return nil, unknownModifier(u.Key)
			}
			if err != nil {
				return nil, err
			}
			touched = append(touched, op.parts)
			if op.from != nil {
				touched = append(touched, op.from)
			}
			ops = append(ops, op)
		}
	}
	if err := checkConflicts(touched); err != nil {
		return nil, err
	}
	slices.SortStableFunc(ops, func(a, b updateOp) int { return comparePaths(a.parts, b.parts) })
	return ops, nil
}

func knownUpdateOperator(op string) bool {
	switch op {
	case "$set", "$setOnInsert", "$unset", "$inc", "$min", "$max", "$currentDate", "$push", "$addToSet", "$rename":
		return true
	}
	return false
}

func unknownModifier(key string) error {
	return newError(CodeFailedToParse,
		"Unknown modifier: %s. Expected a valid update modifier or pipeline-style update specified as an array", key)
}

// parseUpdatePath validates a dotted update path.
func parseUpdatePath(path string) ([]string, error) {
	if path == "" {
		return nil, newError(CodeEmptyFieldName, "An empty update path is not valid.")
	}
	parts := splitPath(path)
	for _, p := range parts {
		if p == "" {
			return nil, newError(CodeEmptyFieldName, "The update path '%s' contains an empty field name, which is not allowed.", path)
		}
		if strings.HasPrefix(p, "$") {
			return nil, newError(CodeBadValue, "positional and $-prefixed update paths are not supported by the test server: '%s'", path)
		}
	}
	return parts, nil
}

// checkConflicts rejects two modifications of the same path, or of a path
// and one inside it.
func checkConflicts(paths [][]string) error {
	for i := range paths {
		for k := i + 1; k < len(paths); k++ {
			p, q := paths[i], paths[k]
			if len(q) < len(p) {
				p, q = q, p
			}
			if slices.Equal(p, q[:len(p)]) {
				return newError(CodeConflictingUpdateOperator, "Updating the path '%s' would create a conflict at '%s'",
					strings.Join(paths[k], "."), strings.Join(p, "."))
			}
		}
	}
	return nil
}

// comparePaths orders update paths component by component: numeric names
// numerically, others lexicographically.
func comparePaths(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ai, aok := arrayIndex(a[i])
		bi, bok := arrayIndex(b[i])
		var c int
		if aok && bok {
			c = cmp.Compare(ai, bi)
		} else {
			c = strings.Compare(a[i], b[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// apply runs one modification on doc (which it may modify in place).
func (op updateOp) apply(doc bson.D, rec *changeRecorder) (bson.D, error) {
	if op.from != nil {
		return applyRename(doc, op, rec)
	}
	if op.fn == nil { // $setOnInsert outside an insert
		return doc, nil
	}
	out, res, err := modify(doc, op.parts, op.fn)
	if err != nil {
		return nil, err
	}
	rec.record(op.parts, res)
	return out, nil
}

// changeRecorder collects the paths an update touched.
type changeRecorder struct {
	updated [][]string
	removed [][]string
}

func (r *changeRecorder) record(parts []string, res modResult) {
	switch res.op {
	case leafSet:
		switch {
		case res.createdAt >= 0:
			r.updated = append(r.updated, parts[:res.createdAt+1])
		case res.appendFrom >= 0:
			for i := res.appendFrom; i < res.appendTo; i++ {
				p := append(slices.Clone(parts), strconv.Itoa(i))
				r.updated = append(r.updated, p)
			}
		default:
			r.updated = append(r.updated, parts)
		}
	case leafUnset:
		r.removed = append(r.removed, parts)
	}
}

// changes builds the change-stream description, reading new values from the
// final document; paths inside another reported path are folded into it.
func (r *changeRecorder) changes(in, out bson.D) Changes {
	var ch Changes
	for i, p := range r.updated {
		if hasAncestorIn(p, r.updated, i) {
			continue
		}
		path := strings.Join(p, ".")
		v, _ := Lookup(out, path)
		ch.Updated = append(ch.Updated, bson.E{Key: path, Value: deepCopy(v)})
		ch.noteAmbiguous(partsIn(out, p))
	}
	for _, p := range r.removed {
		ch.Removed = append(ch.Removed, strings.Join(p, "."))
		ch.noteAmbiguous(partsIn(in, p))
	}
	return ch
}

// hasAncestorIn reports whether some other path in paths is a strict
// ancestor of p, or an equal path that comes earlier.
func hasAncestorIn(p []string, paths [][]string, self int) bool {
	for k, q := range paths {
		if k == self || len(q) > len(p) || !slices.Equal(q, p[:len(q)]) {
			continue
		}
		if len(q) < len(p) || k < self {
			return true
		}
	}
	return false
}
