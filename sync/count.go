package sync

import (
	"context"
	"fmt"
	"strings"

	pb "cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
)

// CountProject counts the project's documents in every configured
// collection (the documents a cleanup matches, not their subcollections),
// with one aggregation query per collection: a caller can check a safety
// limit before deleting anything.
func (a *Applier) CountProject(ctx context.Context, projectID string) (event.Report, error) {
	if strings.TrimSpace(projectID) == "" {
		return event.Report{}, event.ErrEmptyProjectID
	}
	rep, err := a.eachCollection(ctx, a.cfg.Collections, func(ctx context.Context, c config.Collection) (event.CollectionReport, error) {
		q := a.projectQuery(c, projectID)
		res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
		a.record(ctx, err)
		if err != nil {
			return event.CollectionReport{}, fmt.Errorf("counting: %w", err)
		}
		v, ok := res["n"].(*pb.Value)
		if !ok {
			return event.CollectionReport{}, fmt.Errorf("counting: unexpected result %T", res["n"])
		}
		return event.CollectionReport{Matched: int(v.GetIntegerValue())}, nil
	})
	if err != nil {
		return rep, fmt.Errorf("sync: counting project %s: %w", projectID, err)
	}
	return rep, nil
}
