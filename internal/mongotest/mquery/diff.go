package mquery

import (
	"bytes"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The change-stream description of a pipeline-style update comes from a
// diff of the document before and after, computed as MongoDB 7 does for its
// oplog: fields compared in order, sub-documents and arrays of the same type
// diffed recursively, a shortened array recorded as a truncation, and a
// (sub-)diff replaced by the whole new value when it would be at least as
// large as that value. When the diff of the whole document is that large
// the server logs the update as a replacement.

// pathPart is one component of a changed path.
type pathPart struct {
	name  string
	index bool // an array index
}

// diffNode is a document or array diff, kept in the order MongoDB reads it
// back into an update description.
type diffNode struct {
	array   bool
	updates []diffEntry // 'u' and 'i' entries (array: by index)
	deletes []string
	subs    []diffSub
	resize  int // array: new length when shortened, else -1
	size    int // estimate of the serialized diff's size
}

type diffEntry struct {
	name  string
	value any
}

type diffSub struct {
	name string
	node *diffNode
}

// DiffUpdate describes the change from pre to post as a change stream
// reports a pipeline-style update. ok is false when the server would log
// the update as a replacement (the diff is not smaller than post).
func DiffUpdate(pre, post bson.D) (ch Changes, ok bool) {
	root := diffDocs(pre, post)
	if root == nil {
		return Changes{}, false
	}
	var b changesBuilder
	b.walk(root, nil)
	return b.ch, true
}

func valueSize(v any) int {
	raw, err := bson.Marshal(bson.D{{Key: "", Value: v}})
	if err != nil {
		return 0
	}
	return len(raw) - 5
}

func sameBytes(a, b any) bool {
	ra, err1 := bson.Marshal(bson.D{{Key: "", Value: a}})
	rb, err2 := bson.Marshal(bson.D{{Key: "", Value: b}})
	return err1 == nil && err2 == nil && bytes.Equal(ra, rb)
}

func docSize(d bson.D) int {
	raw, err := bson.Marshal(d)
	if err != nil {
		return 0
	}
	return len(raw)
}

func (n *diffNode) addUpdate(name string, v any) {
	n.updates = append(n.updates, diffEntry{name: name, value: v})
	n.size += len(name) + 2 + valueSize(v)
}

func (n *diffNode) addDelete(name string) {
	n.deletes = append(n.deletes, name)
	n.size += len(name) + 3
}

// addChild diffs two values of the same container type at name: a
// sub-diff, or the whole new value when the sub-diff is not smaller.
func (n *diffNode) addChild(name string, pre, post any) {
	var sub *diffNode
	switch p := pre.(type) {
	case bson.D:
		sub = diffDocs(p, post.(bson.D))
	case bson.A:
		sub = diffArrays(p, post.(bson.A))
	}
	if sub == nil {
		n.addUpdate(name, post)
		return
	}
	n.subs = append(n.subs, diffSub{name: name, node: sub})
	n.size += len(name) + 2 + sub.size
}

func containerPair(a, b any) bool {
	switch a.(type) {
	case bson.D:
		_, ok := b.(bson.D)
		return ok
	case bson.A:
		_, ok := b.(bson.A)
		return ok
	}
	return false
}

func diffDocs(pre, post bson.D) *diffNode {
	n := &diffNode{resize: -1, size: 5}
	deleted := map[string]bool{}
	var order []string
	i, k := 0, 0
	for i < len(pre) && k < len(post) {
		a, b := pre[i], post[k]
		if a.Key == b.Key && sameBytes(a.Value, b.Value) {
			i, k = i+1, k+1
			continue
		}
		if a.Key == b.Key {
			if containerPair(a.Value, b.Value) {
				n.addChild(a.Key, a.Value, b.Value)
			} else {
				n.addUpdate(a.Key, b.Value)
			}
			i, k = i+1, k+1
			continue
		}
		if !deleted[a.Key] {
			order = append(order, a.Key)
		}
		deleted[a.Key] = true
		i++
	}
	for ; i < len(pre); i++ {
		n.addDelete(pre[i].Key)
	}
	for ; k < len(post); k++ {
		n.addUpdate(post[k].Key, post[k].Value)
		delete(deleted, post[k].Key)
	}
	for _, name := range sortedStrings(order) {
		if deleted[name] {
			n.addDelete(name)
		}
	}
	if docSize(post) <= n.size {
		return nil
	}
	return n
}

func diffArrays(pre, post bson.A) *diffNode {
	n := &diffNode{array: true, resize: -1, size: 5 + 4}
	i := 0
	for ; i < len(pre) && i < len(post); i++ {
		if sameBytes(pre[i], post[i]) {
			continue
		}
		name := strconv.Itoa(i)
		if containerPair(pre[i], post[i]) {
			n.addChild(name, pre[i], post[i])
		} else {
			n.addUpdate(name, post[i])
		}
	}
	for ; i < len(post); i++ {
		n.addUpdate(strconv.Itoa(i), post[i])
	}
	if len(pre) > len(post) {
		n.resize = len(post)
		n.size += 7
	}
	if valueSize(post) <= n.size {
		return nil
	}
	return n
}

func sortedStrings(ss []string) []string {
	out := append([]string(nil), ss...)
	for i := 1; i < len(out); i++ {
		for k := i; k > 0 && out[k] < out[k-1]; k-- {
			out[k], out[k-1] = out[k-1], out[k]
		}
	}
	return out
}

// changesBuilder turns a diff into an update description, in the order
// MongoDB's change stream reads it: a document's updates, then its
// deletions, then its sub-diffs; an array's truncation, then its entries by
// index.
type changesBuilder struct {
	ch Changes
}

func (b *changesBuilder) walk(n *diffNode, path []pathPart) {
	if n.array {
		if n.resize >= 0 {
			b.ch.Truncated = append(b.ch.Truncated, Truncation{Field: joinParts(path), NewSize: int32(n.resize)})
			b.ch.noteAmbiguous(path)
		}
		b.walkArrayEntries(n, path)
		return
	}
	for _, u := range n.updates {
		p := appendPart(path, pathPart{name: u.name})
		b.ch.Updated = append(b.ch.Updated, bson.E{Key: joinParts(p), Value: deepCopy(u.value)})
		b.ch.noteAmbiguous(p)
	}
	for _, d := range n.deletes {
		p := appendPart(path, pathPart{name: d})
		b.ch.Removed = append(b.ch.Removed, joinParts(p))
		b.ch.noteAmbiguous(p)
	}
	for _, s := range n.subs {
		b.walk(s.node, appendPart(path, pathPart{name: s.name}))
	}
}

// walkArrayEntries reports an array diff's updates and sub-diffs by index.
func (b *changesBuilder) walkArrayEntries(n *diffNode, path []pathPart) {
	ui, si := 0, 0
	for ui < len(n.updates) || si < len(n.subs) {
		takeUpdate := si >= len(n.subs)
		if ui < len(n.updates) && si < len(n.subs) {
			a, _ := strconv.Atoi(n.updates[ui].name)
			c, _ := strconv.Atoi(n.subs[si].name)
			takeUpdate = a < c
		}
		if takeUpdate {
			u := n.updates[ui]
			ui++
			p := appendPart(path, pathPart{name: u.name, index: true})
			b.ch.Updated = append(b.ch.Updated, bson.E{Key: joinParts(p), Value: deepCopy(u.value)})
			b.ch.noteAmbiguous(p)
			continue
		}
		s := n.subs[si]
		si++
		b.walk(s.node, appendPart(path, pathPart{name: s.name, index: true}))
	}
}

func appendPart(path []pathPart, p pathPart) []pathPart {
	out := make([]pathPart, len(path), len(path)+1)
	copy(out, path)
	return append(out, p)
}

func joinParts(path []pathPart) string {
	names := make([]string, len(path))
	for i, p := range path {
		names[i] = p.name
	}
	return strings.Join(names, ".")
}

// noteAmbiguous adds path to Disambiguated when its dotted form is
// ambiguous, as MongoDB decides: a field name (not an array index) that
// contains a dot, or that is numeric and not the first component, makes
// the path ambiguous. The entry lists the components, array indices as
// integers.
func (ch *Changes) noteAmbiguous(path []pathPart) {
	ambiguous := false
	for i, p := range path {
		if p.index {
			continue
		}
		if strings.Contains(p.name, ".") {
			ambiguous = true
		}
		if _, numeric := arrayIndex(p.name); numeric && i > 0 {
			ambiguous = true
		}
	}
	if !ambiguous {
		return
	}
	parts := make(bson.A, len(path))
	for i, p := range path {
		if n, ok := arrayIndex(p.name); ok && p.index {
			parts[i] = int32(n)
		} else {
			parts[i] = p.name
		}
	}
	ch.Disambiguated = append(ch.Disambiguated, bson.E{Key: joinParts(path), Value: parts})
}

// partsIn resolves a path given by components against doc: a component is
// an array index where the value it enters is an array.
func partsIn(doc bson.D, names []string) []pathPart {
	out := make([]pathPart, len(names))
	var cur any = doc
	for i, name := range names {
		out[i].name = name
		switch c := cur.(type) {
		case bson.D:
			cur, _ = field(c, name)
		case bson.A:
			out[i].index = true
			if n, ok := arrayIndex(name); ok && n < len(c) {
				cur = c[n]
			} else {
				cur = nil
			}
		default:
			cur = nil
		}
	}
	return out
}
