package config

import (
	"slices"
	"strings"
)

// SplitFieldPath splits a dotted Firestore field path ("project.name") into
// its segments; nil when s is empty or has an empty segment ("a..b", ".a").
func SplitFieldPath(s string) []string {
	parts := strings.Split(s, ".")
	if slices.Contains(parts, "") {
		return nil
	}
	return parts
}

// FieldCollections is the collections f's copies are written to: the ones
// it names, or every configured collection when it names none.
func (s Sync) FieldCollections(f Field) []string {
	if len(f.Collections) > 0 {
		return f.Collections
	}
	names := make([]string, len(s.Collections))
	for i, c := range s.Collections {
		names[i] = c.Name
	}
	return names
}

// Copy is one copy of a project field in one collection.
type Copy struct {
	Source     string   // field path in the MongoDB project document
	Collection string   // a configured collection
	Target     []string // field path in its asset documents (SplitFieldPath)
}

// Copies lists every copy sync.fields configures, field by field, each in
// the collections of FieldCollections. It is meant for a configuration that
// passed Validate, which guarantees that the targets are field paths, that
// no two of them collide in a collection and that none touches the id field.
func (s Sync) Copies() []Copy {
	var out []Copy
	for _, f := range s.Fields {
		target := SplitFieldPath(f.Target)
		for _, c := range s.FieldCollections(f) {
			out = append(out, Copy{Source: f.Source, Collection: c, Target: target})
		}
	}
	return out
}

// overlaps reports whether a and b are equal or one lies inside the other:
// two such paths cannot both be written by one update.
func overlaps(a, b []string) bool {
	n := min(len(a), len(b))
	return n > 0 && slices.Equal(a[:n], b[:n])
}
