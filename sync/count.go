package sync

import (
	"context"
	"fmt"

	pb "cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/fscall"
)

// countProject counts the project's documents in colls (the documents an
// event matches, not their subcollections), with one aggregation query per
// collection: a limit too large to check by reading (maxBufferedDocs) is
// checked this way before anything is written.
func (a *Applier) countProject(ctx context.Context, colls []config.Collection, projectID string) (event.Report, error) {
	rep, err := a.eachCollection(ctx, colls, func(ctx context.Context, _ int, c config.Collection) (event.CollectionReport, error) {
		q := a.projectQuery(c, projectID)
		callCtx, cancel := a.limit.Unary(ctx)
		defer cancel()
		res, err := q.NewAggregationQuery().WithCount("n").Get(callCtx)
		err = fscall.Err(callCtx, err)
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
