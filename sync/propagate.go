package sync

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/bsonvalue"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
)

// change is the new state of one copied field in one collection.
type change struct {
	path  firestore.FieldPath
	value any  // converted for Firestore
	unset bool // remove the field
}

// UpdateProject rewrites the copies of changed project fields in every
// document of the project. set and unset are keyed by source path (config
// sync.fields[].source); each maps to its target field path in the
// collections its mapping names. Sources that are not configured are
// ignored. Documents already holding the new values are not written, so a
// replay writes nothing.
// With WithLimit and WithDryRun it behaves as DeleteProject does.
func (a *Applier) UpdateProject(ctx context.Context, projectID string, set map[string]any, unset []string) (event.Report, error) {
	if a.dry != nil {
		return a.dry.updateProject(ctx, projectID, set, unset, a.opts.limit)
	}
	return a.updateProjectWithin(ctx, projectID, set, unset, a.opts.limit)
}

// updateProjectWithin is UpdateProject for a project of at most max
// documents in the collections the changed fields are copied to (max <= 0:
// no limit). A project with more gets no write at all and an error wrapping
// ErrSafetyLimit; the limit costs no extra query (see readWithin).
func (a *Applier) updateProjectWithin(ctx context.Context, projectID string, set map[string]any, unset []string, max int) (event.Report, error) {
	if strings.TrimSpace(projectID) == "" {
		return event.Report{}, event.ErrEmptyProjectID
	}
	plan, err := a.planChanges(set, unset)
	if err != nil {
		return event.Report{}, fmt.Errorf("sync: updating project %s: %w", projectID, err)
	}
	colls := make([]config.Collection, 0, len(plan))
	for _, c := range a.cfg.Collections {
		if len(plan[c.Name]) > 0 {
			colls = append(colls, c)
		}
	}
	rep, err := a.withinLimit(ctx, colls, projectID, max, bounded{
		stream: func(ctx context.Context, c config.Collection) (event.CollectionReport, error) {
			return a.propagate(ctx, c, projectID, plan[c.Name])
		},
		query: func(c config.Collection, projectID string) firestore.Query {
			return a.propagateQuery(c, projectID, plan[c.Name])
		},
		toWrite: func(c config.Collection, s *firestore.DocumentSnapshot) (write, bool) {
			updates := pendingUpdates(s, plan[c.Name])
			return write{ref: s.Ref, updates: updates}, len(updates) > 0
		},
		apply: func(ctx context.Context, c config.Collection, r read) (event.CollectionReport, error) {
			return a.writePages(c, r, func(page []write) (event.CollectionReport, error) { return a.updatePage(ctx, page) })
		},
	})
	if err != nil {
		return rep, fmt.Errorf("sync: updating project %s: %w", projectID, err)
	}
	return rep, nil
}

// planChanges groups the changes by collection.
func (a *Applier) planChanges(set map[string]any, unset []string) (map[string][]change, error) {
	plan := map[string][]change{}
	for source, v := range set {
		targets, ok := a.targets[source]
		if !ok {
			a.log.Debug().Str("source", source).Msg("changed field is not copied; ignored")
			continue
		}
		value, err := bsonvalue.Firestore(v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", source, err)
		}
		for _, t := range targets {
			plan[t.collection] = append(plan[t.collection], change{path: t.path, value: value})
		}
	}
	for _, source := range unset {
		if _, both := set[source]; both {
			return nil, fmt.Errorf("field %s is both set and unset", source)
		}
		for _, t := range a.targets[source] {
			plan[t.collection] = append(plan[t.collection], change{path: t.path, unset: true})
		}
	}
	return plan, nil
}

// propagate applies changes to the project's documents of one collection.
func (a *Applier) propagate(ctx context.Context, coll config.Collection, projectID string, changes []change) (event.CollectionReport, error) {
	q := a.propagateQuery(coll, projectID, changes)
	rep := event.CollectionReport{Collection: coll.Name}
	log := a.log.With().Str("projectId", projectID).Str("collection", coll.Name).Logger()
	pages := newInflight()
	_, err := a.forEachPage(ctx, q, func(snaps []*firestore.DocumentSnapshot) error {
		rep.Matched += len(snaps)
		writes := make([]write, 0, len(snaps))
		for _, s := range snaps {
			if updates := pendingUpdates(s, changes); len(updates) > 0 {
				writes = append(writes, write{ref: s.Ref, updates: updates})
			}
		}
		log.Debug().Int("count", len(snaps)).Int("writes", len(writes)).Msg("update page")
		return pages.start(func() (event.CollectionReport, error) { return a.updatePage(ctx, writes) })
	})
	done, err := pages.wait(err)
	rep.Updated = done.Updated
	return rep, err
}

// updatePage writes one page of updates.
func (a *Applier) updatePage(ctx context.Context, writes []write) (event.CollectionReport, error) {
	n, err := a.commit(ctx, writes)
	return event.CollectionReport{Updated: n}, err
}

// propagateQuery selects the changed fields of the project's documents.
func (a *Applier) propagateQuery(coll config.Collection, projectID string, changes []change) firestore.Query {
	paths := make([]firestore.FieldPath, len(changes))
	for i, c := range changes {
		paths[i] = c.path
	}
	return a.projectQuery(coll, projectID).SelectPaths(paths...)
}

// pendingUpdates returns the updates s still needs: fields whose stored
// value differs from the new one, and unset fields still present. A value
// that does not survive a Firestore round trip unchanged (a time with
// nanoseconds, say) is simply written again.
func pendingUpdates(s *firestore.DocumentSnapshot, changes []change) []firestore.Update {
	var updates []firestore.Update
	for _, c := range changes {
		current, err := s.DataAtPath(c.path)
		present := err == nil
		switch {
		case c.unset && present:
			updates = append(updates, firestore.Update{FieldPath: c.path, Value: firestore.Delete})
		case !c.unset && (!present || !reflect.DeepEqual(current, c.value)):
			updates = append(updates, firestore.Update{FieldPath: c.path, Value: c.value})
		}
	}
	return updates
}
