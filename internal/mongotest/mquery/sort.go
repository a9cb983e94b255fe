package mquery

import (
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// sortKey is one component of a sort specification.
type sortKey struct {
	parts []string
	desc  bool
}

// parseSortSpec validates {a: 1, b: -1}.
func parseSortSpec(spec bson.D) ([]sortKey, error) {
	keys := make([]sortKey, 0, len(spec))
	for _, e := range spec {
		if e.Key == "" {
			return nil, newError(CodeBadValue, "sort key field name cannot be empty")
		}
		if _, ok := e.Value.(bson.D); ok {
			return nil, newError(CodeBadValue, "$meta sort keys are not supported by the test server")
		}
		n, ok := toNumber(e.Value)
		if !ok {
			return nil, newError(15974, "Illegal key in $sort specification: %s: %v", e.Key, e.Value)
		}
		switch n.float() {
		case 1:
			keys = append(keys, sortKey{parts: splitPath(e.Key)})
		case -1:
			keys = append(keys, sortKey{parts: splitPath(e.Key), desc: true})
		default:
			return nil, newError(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
		}
	}
	return keys, nil
}

// sortValue returns the value a document sorts by for one key: a missing
// field is null; an array contributes its smallest element ascending and its
// largest descending; an empty array sorts before null.
func sortValue(doc bson.D, k sortKey) any {
	var cands []any
	walkPath(doc, k.parts, func(v any, missing bool) {
		if missing {
			cands = append(cands, nil)
			return
		}
		if arr, ok := asArray(v); ok {
			if len(arr) == 0 {
				cands = append(cands, bson.Undefined{})
			}
			cands = append(cands, arr...)
			return
		}
		cands = append(cands, v)
	})
	if len(cands) == 0 {
		return nil
	}
	best := cands[0]
	for _, c := range cands[1:] {
		r := Compare(c, best)
		if (!k.desc && r < 0) || (k.desc && r > 0) {
			best = c
		}
	}
	return best
}

// Sort sorts docs in place by a sort specification ({a: 1, b: -1}), stable.
func Sort(docs []bson.D, spec bson.D) error {
	keys, err := parseSortSpec(spec)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	type keyed struct {
		doc  bson.D
		vals []any
	}
	items := make([]keyed, len(docs))
	for i, d := range docs {
		vals := make([]any, len(keys))
		for j, k := range keys {
			vals[j] = sortValue(d, k)
		}
		items[i] = keyed{doc: d, vals: vals}
	}
	slices.SortStableFunc(items, func(a, b keyed) int {
		for j, k := range keys {
			c := Compare(a.vals[j], b.vals[j])
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	for i := range items {
		docs[i] = items[i].doc
	}
	return nil
}
