package sync

import (
	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
)

// target is one copy of a project field: a field path in the documents of a
// configured collection.
type target struct {
	collection string
	path       firestore.FieldPath
}

// indexCopies maps each source path to its copies (config.Sync.Copies of a
// section that passed config's validation).
func indexCopies(cfg config.Sync) map[string][]target {
	out := map[string][]target{}
	for _, c := range cfg.Copies() {
		out[c.Source] = append(out[c.Source], target{collection: c.Collection, path: firestore.FieldPath(c.Target)})
	}
	return out
}
