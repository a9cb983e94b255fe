package sync

import (
	"context"
	"fmt"
	"strings"

	"github.com/projectwatcher/watcher/event"
	"github.com/rs/zerolog"
)

// dryRun carries out WithDryRun: it logs what each event would change (per
// collection: documents matched, fields set or removed) and writes nothing
// to Firestore. It only reads (an aggregation count per collection).
type dryRun struct {
	a   *Applier
	log zerolog.Logger
}

// deleteProject counts the project's documents and logs the cleanup it
// would make; the report lists them as matched only. Over max documents
// (max > 0) it reports what the safety limit would stop.
func (d *dryRun) deleteProject(ctx context.Context, projectID string, max int) (event.Report, error) {
	if strings.TrimSpace(projectID) == "" {
		return event.Report{}, event.ErrEmptyProjectID
	}
	if rep, err := overLimit(ctx, d.a.CountProject, projectID, max); err != nil {
		return rep, err
	}
	rep, err := d.a.CountProject(ctx, projectID)
	if err != nil {
		return rep, fmt.Errorf("dry run: %w", err)
	}
	action := "delete"
	if d.a.cfg.Mode == ModeArchive {
		action = "archive"
	}
	for _, c := range rep.Collections {
		d.log.Info().Bool("dryRun", true).Str("projectId", projectID).Str("collection", c.Collection).
			Int("matched", c.Matched).Str("action", action).Bool("recursive", d.recursive(c.Collection)).
			Msg("dry run: would clean up the project's documents; nothing written")
	}
	return rep, nil
}

// updateProject counts the project's documents in the collections the
// changed fields are copied to and logs the fields it would set or remove
// (over max documents, what the safety limit would stop).
func (d *dryRun) updateProject(ctx context.Context, projectID string, set map[string]any, unset []string, max int) (event.Report, error) {
	if strings.TrimSpace(projectID) == "" {
		return event.Report{}, event.ErrEmptyProjectID
	}
	if rep, err := overLimit(ctx, d.a.CountProject, projectID, max); err != nil {
		return rep, err
	}
	plan, err := d.a.planChanges(set, unset)
	if err != nil {
		return event.Report{}, fmt.Errorf("dry run: updating project %s: %w", projectID, err)
	}
	if len(plan) == 0 {
		return event.Report{}, nil
	}
	counted, err := d.a.CountProject(ctx, projectID)
	if err != nil {
		return event.Report{}, fmt.Errorf("dry run: %w", err)
	}
	var rep event.Report
	for _, c := range counted.Collections {
		changes := plan[c.Collection]
		if len(changes) == 0 {
			continue
		}
		rep.Collections = append(rep.Collections, c)
		fields := zerolog.Dict()
		var removed []string
		for _, ch := range changes {
			path := strings.Join(ch.path, ".")
			if ch.unset {
				removed = append(removed, path)
				continue
			}
			fields.Interface(path, ch.value)
		}
		d.log.Info().Bool("dryRun", true).Str("projectId", projectID).Str("collection", c.Collection).
			Int("matched", c.Matched).Dict("set", fields).Strs("unset", removed).
			Msg("dry run: would rewrite copied fields; nothing written")
	}
	return rep, nil
}

func (d *dryRun) recursive(collection string) bool {
	for _, c := range d.a.cfg.Collections {
		if c.Name == collection {
			return c.Recursive && d.a.cfg.Mode != ModeArchive
		}
	}
	return false
}
