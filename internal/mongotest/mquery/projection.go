package mquery

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// projMode says where a projection specification comes from; the three
// read values differently.
type projMode int

const (
	modeFind      projMode = iota // find's projection: 1/0, literals are computed
	modeProject                   // the $project stage
	modeAddFields                 // $addFields / $set: every value is computed
)

// projField is one field of a projection tree.
type projField struct {
	name    string
	include bool
	exclude bool
	expr    expression // computed field
	sub     *projNode  // nested specification
}

// projNode is one level of a projection tree, in specification order.
type projNode struct {
	fields []*projField
}

func (n *projNode) get(name string) *projField {
	for _, f := range n.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

// projection is a parsed projection.
type projection struct {
	root      *projNode
	inclusion bool // inclusion (or computed) projection; else exclusion
	empty     bool // nothing specified: the document is returned as is
}

// Project applies a find-style projection ({a: 1, "b.c": 1} or {a: 0}; _id
// included unless excluded). Values other than numbers and booleans are
// computed fields ("$a.b" paths, literals, {$literal: v}). $slice,
// $elemMatch, $meta and positional projections are not supported.
func Project(doc bson.D, projection bson.D) (bson.D, error) {
	p, err := parseProjection(projection, modeFind)
	if err != nil {
		return nil, err
	}
	return p.apply(doc), nil
}

func parseProjection(spec bson.D, mode projMode) (*projection, error) {
	p := &projection{root: &projNode{}}
	var sawInclude, sawExclude bool
	idSpec := 0 // 1 included, -1 excluded
	var add func(node *projNode, prefix string, spec bson.D) error
	add = func(node *projNode, prefix string, spec bson.D) error {
		for _, e := range spec {
			full := prefix + e.Key
			if e.Key == "" || strings.HasPrefix(e.Key, "$") || strings.Contains(e.Key, ".$") || strings.HasSuffix(e.Key, ".") || strings.Contains(e.Key, "..") {
				if strings.Contains(e.Key, "$") {
					return newError(CodeBadValue, "positional and $-prefixed projection fields are not supported by the test server: %s", full)
				}
				return newError(CodeBadValue, "FieldPath field names may not be empty strings: %s", full)
			}
			f := &projField{}
			var nested bson.D
			switch v := e.Value.(type) {
			case bool:
				if mode != modeAddFields {
					f.include, f.exclude = v, !v
				}
			case bson.D:
				if len(v) > 0 && strings.HasPrefix(v[0].Key, "$") {
					switch v[0].Key {
					case "$slice", "$elemMatch", "$meta":
						return newError(CodeBadValue, "%s projection is not supported by the test server", v[0].Key)
					}
				} else if mode != modeAddFields || len(v) > 0 {
					if len(v) == 0 {
						return newError(51270, "An empty sub-projection is not a valid value. Found empty object at path %s", full)
					}
					nested = v
				}
			default:
				if n, ok := toNumber(v); ok && mode != modeAddFields {
					nonZero := compareNumbers(n, number{kind: numInt}) != 0
					f.include, f.exclude = nonZero, !nonZero
				}
			}
			if nested == nil && !f.include && !f.exclude {
				x, err := parseExpression(e.Value)
				if err != nil {
					return err
				}
				f.expr = x
			}
			isID := full == "_id"
			switch {
			case isID && f.include:
				idSpec = 1
			case isID && f.exclude:
				idSpec = -1
			case f.exclude:
				if mode == modeAddFields {
					break
				}
				if sawInclude {
					return newError(31254, "Cannot do exclusion on field %s in inclusion projection", full)
				}
				sawExclude = true
			case f.include || f.expr != nil:
				if sawExclude {
					if f.expr != nil {
						return newError(31252, "Invalid $project :: caused by :: Cannot use expression other than $meta in exclusion projection")
					}
					return newError(31253, "Cannot do inclusion on field %s in exclusion projection", full)
				}
				sawInclude = true
			}
			parts := splitPath(e.Key)
			target := node
			for i, part := range parts[:len(parts)-1] {
				existing := target.get(part)
				if existing == nil {
					existing = &projField{name: part, sub: &projNode{}}
					target.fields = append(target.fields, existing)
				} else if existing.sub == nil {
					return newError(31250, "Path collision at %s remaining portion %s", full, strings.Join(parts[i+1:], "."))
				}
				target = existing.sub
			}
			last := parts[len(parts)-1]
			if target.get(last) != nil {
				return newError(31250, "Path collision at %s", full)
			}
			f.name = last
			if nested != nil {
				f.sub = &projNode{}
				target.fields = append(target.fields, f)
				if err := add(f.sub, full+".", nested); err != nil {
					return err
				}
				continue
			}
			target.fields = append(target.fields, f)
		}
		return nil
	}
	if err := add(p.root, "", spec); err != nil {
		return nil, err
	}
	switch {
	case mode == modeAddFields:
		p.inclusion = false
	case sawInclude:
		p.inclusion = true
	case sawExclude:
		p.inclusion = false
	case idSpec == 1:
		p.inclusion = true
	case idSpec == -1:
		p.inclusion = false
	default:
		p.empty = true
	}
	if p.inclusion && idSpec == 0 && p.root.get("_id") == nil {
		p.root.fields = append([]*projField{{name: "_id", include: true}}, p.root.fields...)
	}
	return p, nil
}

func (p *projection) apply(doc bson.D) bson.D {
	switch {
	case p.empty:
		return copyDoc(doc)
	case p.inclusion:
		return addComputed(includeDoc(doc, p.root), p.root, doc)
	}
	return addComputed(excludeDoc(doc, p.root), p.root, doc)
}

// includeDoc keeps the included fields of doc, in document order (computed
// fields are added afterwards, in specification order).
func includeDoc(doc bson.D, node *projNode) bson.D {
	out := bson.D{}
	for _, e := range doc {
		f := node.get(e.Key)
		if f == nil {
			continue
		}
		switch {
		case f.include:
			out = append(out, bson.E{Key: e.Key, Value: deepCopy(e.Value)})
		case f.sub != nil && f.sub.hasInclusions():
			if v, ok := includeValue(e.Value, f.sub); ok {
				out = append(out, bson.E{Key: e.Key, Value: v})
			}
		}
	}
	return out
}

// hasInclusions reports whether a subtree keeps any stored field.
func (n *projNode) hasInclusions() bool {
	for _, f := range n.fields {
		if f.include || (f.sub != nil && f.sub.hasInclusions()) {
			return true
		}
	}
	return false
}

// includeValue projects a nested value: documents recurse, arrays keep
// their projected documents and arrays, scalars are dropped.
func includeValue(v any, node *projNode) (any, bool) {
	switch c := v.(type) {
	case bson.D:
		return includeDoc(c, node), true
	case bson.A, []any:
		arr, _ := asArray(c)
		out := bson.A{}
		for _, el := range arr {
			if r, ok := includeValue(el, node); ok {
				out = append(out, r)
			}
		}
		return out, true
	}
	return nil, false
}

// addComputed sets the computed fields of node in doc: an existing field is
// replaced in place, a new one appended; nested specifications merge into
// embedded documents (and into each document of an array).
func addComputed(doc bson.D, node *projNode, root bson.D) bson.D {
	for _, f := range node.fields {
		switch {
		case f.expr != nil:
			v, ok := f.expr.eval(root)
			idx := fieldIndex(doc, f.name)
			switch {
			case !ok && idx >= 0:
				doc = append(doc[:idx:idx], doc[idx+1:]...)
			case !ok:
			case idx >= 0:
				doc[idx].Value = v
			default:
				doc = append(doc, bson.E{Key: f.name, Value: v})
			}
		case f.sub != nil && f.sub.hasComputed():
			idx := fieldIndex(doc, f.name)
			if idx >= 0 {
				doc[idx].Value = computedValue(doc[idx].Value, f.sub, root)
			} else {
				doc = append(doc, bson.E{Key: f.name, Value: addComputed(bson.D{}, f.sub, root)})
			}
		}
	}
	return doc
}

func (n *projNode) hasComputed() bool {
	for _, f := range n.fields {
		if f.expr != nil || (f.sub != nil && f.sub.hasComputed()) {
			return true
		}
	}
	return false
}

func computedValue(v any, node *projNode, root bson.D) any {
	switch c := v.(type) {
	case bson.D:
		return addComputed(c, node, root)
	case bson.A, []any:
		arr, _ := asArray(c)
		for i, el := range arr {
			arr[i] = computedValue(el, node, root)
		}
		return arr
	}
	return addComputed(bson.D{}, node, root)
}

// excludeDoc drops the excluded fields (nested ones inside embedded
// documents and arrays of documents).
func excludeDoc(doc bson.D, node *projNode) bson.D {
	out := bson.D{}
	for _, e := range doc {
		f := node.get(e.Key)
		switch {
		case f != nil && f.exclude:
		case f != nil && f.sub != nil && f.sub.hasExclusions():
			out = append(out, bson.E{Key: e.Key, Value: excludeValue(e.Value, f.sub)})
		default:
			out = append(out, bson.E{Key: e.Key, Value: deepCopy(e.Value)})
		}
	}
	return out
}

func (n *projNode) hasExclusions() bool {
	for _, f := range n.fields {
		if f.exclude || (f.sub != nil && f.sub.hasExclusions()) {
			return true
		}
	}
	return false
}

func excludeValue(v any, node *projNode) any {
	switch c := v.(type) {
	case bson.D:
		return excludeDoc(c, node)
	case bson.A, []any:
		arr, _ := asArray(c)
		out := make(bson.A, len(arr))
		for i, el := range arr {
			out[i] = excludeValue(el, node)
		}
		return out
	}
	return deepCopy(v)
}
