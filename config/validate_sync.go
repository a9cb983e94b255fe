package config

import (
	"regexp"
	"strconv"
	"strings"
)

// Validate checks the sync section alone, by the rules of Config.Validate,
// for a part of the daemon that is handed only this section.
func (s Sync) Validate() error {
	var p Problems
	s.validate(&p)
	return p.err()
}

func (s Sync) validate(p *Problems) {
	switch {
	case strings.TrimSpace(s.IDField) == "":
		p.addf("sync.idField: empty")
	case SplitFieldPath(s.IDField) == nil:
		p.addf("sync.idField: %q is not a field path (a segment between dots is empty)", s.IDField)
	}
	oneOf(p, "sync.mode", s.Mode, "delete", "archive")
	if s.CreateTimeSkew < 0 {
		p.addf("sync.createTimeSkew: must be >= 0, got %s", s.CreateTimeSkew)
	}
	if s.Workers < 1 {
		p.addf("sync.workers: must be >= 1, got %d", s.Workers)
	}
	configured := s.validateCollections(p)
	s.validateFields(p, configured)
}

// reservedID is Firestore's pattern of reserved ids (__name__).
var reservedID = regexp.MustCompile(`^__.*__$`)

// maxCollectionIDBytes is Firestore's limit on a collection id.
const maxCollectionIDBytes = 1500

// validateCollections checks sync.collections and returns the valid names
// with their index.
func (s Sync) validateCollections(p *Problems) map[string]int {
	if len(s.Collections) == 0 {
		p.addf("sync.collections: empty: configure at least one collection")
	}
	configured := make(map[string]int, len(s.Collections))
	for i, c := range s.Collections {
		path := indexPath("sync.collections", i) + ".name"
		if why := collectionIDProblem(c.Name); why != "" {
			p.addf("%s: %s", path, why)
			continue
		}
		if j, dup := configured[c.Name]; dup {
			p.addf("%s: duplicate collection %q (also sync.collections[%d])", path, c.Name, j)
			continue
		}
		configured[c.Name] = i
	}
	return configured
}

// collectionIDProblem says why name is not a Firestore collection id, or "".
func collectionIDProblem(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "empty"
	case strings.Contains(name, "/"):
		return strconv.Quote(name) + ": a collection id, not a path (no \"/\"; for nested collections use group: true)"
	case name == "." || name == "..":
		return strconv.Quote(name) + ": not a Firestore collection id"
	case reservedID.MatchString(name):
		return strconv.Quote(name) + ": ids of the form __name__ are reserved by Firestore"
	case len(name) > maxCollectionIDBytes:
		return "longer than Firestore's 1500 bytes"
	}
	return ""
}

// placed is a field's target already written to a collection.
type placed struct {
	field  int
	target []string
}

// validateFields checks sync.fields: sources, targets, the collections each
// names, and that no two targets collide in a collection (equal, or one
// inside the other: one update cannot write both).
func (s Sync) validateFields(p *Problems, configured map[string]int) {
	idPath := SplitFieldPath(s.IDField)
	byCollection := map[string][]placed{}
	for i, f := range s.Fields {
		at := indexPath("sync.fields", i)
		colls := fieldCollections(p, at, f, s, configured)
		target, ok := checkCopy(p, at, f, idPath)
		if !ok {
			continue
		}
		collided := map[int][]string{} // earlier field -> collections where it collides
		var order []int
		for _, c := range colls {
			for _, e := range byCollection[c] {
				if overlaps(e.target, target) {
					if collided[e.field] == nil {
						order = append(order, e.field)
					}
					collided[e.field] = append(collided[e.field], c)
					break
				}
			}
			byCollection[c] = append(byCollection[c], placed{field: i, target: target})
		}
		for _, j := range order {
			p.addf("%s.target: %q collides with sync.fields[%d].target %q (equal, or one inside the other) in %s",
				at, f.Target, j, s.Fields[j].Target, strings.Join(collided[j], ", "))
		}
	}
}

// checkCopy checks a field's source and target; ok: the target is a field
// path that can be written.
func checkCopy(p *Problems, at string, f Field, idPath []string) ([]string, bool) {
	sourceOK := strings.TrimSpace(f.Source) != ""
	if !sourceOK {
		p.addf("%s.source: empty", at)
	}
	target := SplitFieldPath(f.Target)
	switch {
	case strings.TrimSpace(f.Target) == "":
		p.addf("%s.target: empty", at)
		return nil, false
	case target == nil:
		p.addf("%s.target: %q is not a field path (a segment between dots is empty)", at, f.Target)
		return nil, false
	case idPath != nil && overlaps(target, idPath):
		p.addf("%s.target: %q would overwrite sync.idField %q (equal, or one inside the other); it would detach the assets", at, f.Target, strings.Join(idPath, "."))
		return nil, false
	}
	return target, sourceOK
}

// fieldCollections checks the collections a field names and returns the
// configured ones it reaches, each once.
func fieldCollections(p *Problems, at string, f Field, s Sync, configured map[string]int) []string {
	var out []string
	if len(f.Collections) == 0 {
		for i, c := range s.Collections {
			if j, ok := configured[c.Name]; ok && j == i { // each valid collection once
				out = append(out, c.Name)
			}
		}
		return out
	}
	seen := map[string]int{}
	for j, name := range f.Collections {
		path := at + ".collections[" + strconv.Itoa(j) + "]"
		if k, dup := seen[name]; dup {
			p.addf("%s: %q is listed twice (also %s.collections[%d])", path, name, at, k)
			continue
		}
		seen[name] = j
		if _, ok := configured[name]; !ok {
			p.addf("%s: %q is not a configured collection (sync.collections)", path, name)
			continue
		}
		out = append(out, name)
	}
	return out
}
