package sync

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
)

// target is one copy of a project field: a field path in the documents of a
// configured collection.
type target struct {
	collection string
	path       firestore.FieldPath
}

// indexFields maps each source path to its copies, expanding an empty
// collections list to every configured collection. It rejects targets that
// would collide in one document (equal, or one inside the other) and targets
// that would overwrite the id field.
func indexFields(cfg config.Sync) (map[string][]target, error) {
	var problems []error
	configured := make([]string, 0, len(cfg.Collections))
	for _, c := range cfg.Collections {
		configured = append(configured, c.Name)
	}
	byCollection := map[string][]firestore.FieldPath{}
	out := map[string][]target{}
	for i, f := range cfg.Fields {
		path := splitPath(f.Target)
		switch {
		case f.Source == "":
			problems = append(problems, fmt.Errorf("sync.fields[%d].source is empty", i))
			continue
		case path == nil:
			problems = append(problems, fmt.Errorf("sync.fields[%d].target %q is not a field path", i, f.Target))
			continue
		case cfg.IDField != "" && overlaps(path, splitPath(cfg.IDField)):
			problems = append(problems, fmt.Errorf("sync.fields[%d].target %q would overwrite the id field %q", i, f.Target, cfg.IDField))
			continue
		}
		colls := f.Collections
		if len(colls) == 0 {
			colls = configured
		}
		for _, name := range colls {
			if !slices.Contains(configured, name) {
				problems = append(problems, fmt.Errorf("sync.fields[%d].collections: %q is not a configured collection", i, name))
				continue
			}
			if slices.ContainsFunc(byCollection[name], func(p firestore.FieldPath) bool { return overlaps(p, path) }) {
				problems = append(problems, fmt.Errorf("sync.fields[%d].target %q collides with another target in collection %q", i, f.Target, name))
				continue
			}
			byCollection[name] = append(byCollection[name], path)
			out[f.Source] = append(out[f.Source], target{collection: name, path: path})
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return out, nil
}

// splitPath turns "project.name" into the field path [project name]; nil when
// a segment is empty.
func splitPath(s string) firestore.FieldPath {
	parts := strings.Split(s, ".")
	if slices.Contains(parts, "") {
		return nil
	}
	return firestore.FieldPath(parts)
}

// overlaps reports whether a and b are equal or one is a prefix of the other:
// two such paths cannot both be written in one update.
func overlaps(a, b firestore.FieldPath) bool {
	n := min(len(a), len(b))
	return n > 0 && slices.Equal(a[:n], b[:n])
}
