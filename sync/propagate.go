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
	"github.com/projectwatcher/watcher/internal/crashpoint"
	"github.com/rs/zerolog"
)

// change is the new state of one copied field in one collection.
type change struct {
	path  firestore.FieldPath
	value any  // converted for Firestore
	unset bool // remove the field
}

// updateProject rewrites the copies of changed project fields in every
// document of the project. set and unset are keyed by source path (config
// sync.fields[].source); each maps to its target field path in the
// collections its mapping names. Sources that are not configured are
// ignored. Documents already holding the new values are not written, so a
// replay writes nothing.
func (a *Applier) updateProject(ctx context.Context, projectID string, set map[string]any, unset []string) (event.Report, error) {
	op, err := a.propagationOf(set, unset)
	if err != nil {
		return event.Report{}, failed(op, projectID, err)
	}
	rep, err := a.run(ctx, projectID, op)
	return rep, failed(op, projectID, err)
}

// propagationOf is the propagation of a ProjectUpdated event.
func (a *Applier) propagationOf(set map[string]any, unset []string) (propagation, error) {
	plan, err := a.planChanges(set, unset)
	return propagation{a: a, plan: plan}, err
}

// propagation is the operation of a ProjectUpdated event.
type propagation struct {
	a    *Applier
	plan map[string][]change // by collection name
}

// collections are those the changed fields are copied to.
func (p propagation) collections() []config.Collection {
	colls := make([]config.Collection, 0, len(p.plan))
	for _, c := range p.a.cfg.Collections {
		if len(p.plan[c.Name]) > 0 {
			colls = append(colls, c)
		}
	}
	return colls
}

// fields are the copies the event changes in coll.
func (p propagation) fields(coll config.Collection) []firestore.FieldPath {
	changes := p.plan[coll.Name]
	paths := make([]firestore.FieldPath, len(changes))
	for i, c := range changes {
		paths[i] = c.path
	}
	return paths
}

func (p propagation) writeFor(coll config.Collection, s *firestore.DocumentSnapshot) (write, bool) {
	updates := pendingUpdates(s, p.plan[coll.Name])
	return write{ref: s.Ref, updates: updates}, len(updates) > 0
}

// writePage writes one page of updates.
func (p propagation) writePage(ctx context.Context, log zerolog.Logger, _ config.Collection, writes []write) (event.CollectionReport, error) {
	crashpoint.Hit("before-update-page") // the e2e tests freeze a leader here
	log.Debug().Int("writes", len(writes)).Msg("update page")
	n, err := p.a.commit(ctx, writes)
	return event.CollectionReport{Updated: n}, err
}

func (propagation) action() string { return "updating" }

// repeats: a propagation makes one pass; a stale copy written behind its
// cursor meanwhile is drift, which reconciliation repairs.
func (propagation) repeats() bool { return false }

func (p propagation) logDryRun(line *zerolog.Event, coll config.Collection) {
	fields := zerolog.Dict()
	var removed []string
	for _, ch := range p.plan[coll.Name] {
		path := strings.Join(ch.path, ".")
		if ch.unset {
			removed = append(removed, path)
			continue
		}
		fields.Interface(path, ch.value)
	}
	line.Dict("set", fields).Strs("unset", removed).Msg("dry run: would rewrite copied fields; nothing written")
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
