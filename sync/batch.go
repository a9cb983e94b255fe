package sync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/projectwatcher/watcher/event"
)

// ApplyBatch implements watcher.BatchApplier: it applies evs, events of
// distinct projects, and tells done (index in evs, report, error) the
// outcome of each, exactly what Apply would have returned for it, as soon
// as that event is finished: a large event never holds back the outcome
// of a small one. done may be called from several goroutines at once;
// ApplyBatch returns after the last call.
//
// Events that read the same (deletes with deletes; updates whose changed
// fields are copied to the same target fields of the same collections)
// are applied together, up to 30 at a time (Firestore's limit for `in`):
// each collection is read once for them with `projectId in [...]`, and the
// results are split back by project. Everything else stays per event: the
// operation's decision for each document (a delete's create-time cutoff,
// archive mode's idempotence), the safety limit (an event over it writes
// nothing and fails alone), the writes, the report and the error. An event
// whose project appears earlier in evs is applied on its own afterwards,
// in order. The events of a call share one event's budget of pages
// written at once (pageBudget): a batch holds no more writes in flight
// than one event could.
func (a *Applier) ApplyBatch(ctx context.Context, evs []event.Event, done func(i int, rep event.Report, err error)) {
	groups, later := a.groups(evs, done)
	pages := a.pageBudget() // the whole call writes no more pages at once than one event
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Go(func() { a.runGroup(ctx, g, pages) })
	}
	wg.Wait()
	for _, i := range later {
		rep, err := a.Apply(ctx, evs[i])
		done(i, rep, err)
	}
}

// groups sorts evs into groups that read the same, at most maxBatchIDs
// each, in the order of evs. An event that cannot be applied is told its
// error at once; later lists the events whose project came before.
func (a *Applier) groups(evs []event.Event, done func(int, event.Report, error)) (groups [][]*member, later []int) {
	seen := make(map[string]bool, len(evs))
	open := map[string]int{} // shape → its group still taking members
	for i, ev := range evs {
		if seen[ev.ProjectID] {
			later = append(later, i)
			continue
		}
		seen[ev.ProjectID] = true
		m, err := a.newMember(ev)
		if err != nil {
			done(i, event.Report{}, err)
			continue
		}
		m.done = func(rep event.Report, err error) { done(i, rep, failed(m.op, m.projectID, err)) }
		key := shapeOf(m.op)
		g, ok := open[key]
		if !ok || len(groups[g]) == maxBatchIDs {
			g = len(groups)
			groups = append(groups, nil)
			open[key] = g
		}
		groups[g] = append(groups[g], m)
	}
	return groups, later
}

// newMember is ev as a member of a group: its project and operation; an
// event that cannot be applied is an error (as Apply returns it).
func (a *Applier) newMember(ev event.Event) (*member, error) {
	if strings.TrimSpace(ev.ProjectID) == "" {
		return nil, event.ErrEmptyProjectID
	}
	switch ev.Kind {
	case event.ProjectDeleted:
		return &member{projectID: ev.ProjectID, op: a.cleanupOf(ev.CreatedBy)}, nil
	case event.ProjectUpdated:
		op, err := a.propagationOf(ev.Set, ev.Unset)
		if err != nil {
			return nil, failed(op, ev.ProjectID, err)
		}
		return &member{projectID: ev.ProjectID, op: op}, nil
	}
	return nil, fmt.Errorf("sync: event kind %d of project %s: unknown", int(ev.Kind), ev.ProjectID)
}

// shapeOf says what op reads: its kind, and per collection it reaches, the
// fields it selects. Operations of one shape can share their reads.
func shapeOf(op operation) string {
	var b strings.Builder
	b.WriteString(op.action())
	for _, c := range op.collections() {
		fields := op.fields(c)
		paths := make([]string, len(fields))
		for i, f := range fields {
			paths[i] = strings.Join(f, "\x01")
		}
		slices.Sort(paths)
		fmt.Fprintf(&b, "\x00%s\x02%t\x02%s", c.Name, c.Group, strings.Join(paths, "\x02"))
	}
	return b.String()
}

// failed is err as Apply returns it: naming the operation and the project.
func failed(op operation, projectID string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sync: %s project %s: %w", op.action(), projectID, err)
}
