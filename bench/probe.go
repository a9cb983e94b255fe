package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"cloud.google.com/go/firestore"
)

// probeSizes are the collection sizes the backend probe measures at.
var probeSizes = []int{1_000, 10_000}

// probeRounds is how many times each call is timed (the median is kept).
const probeRounds = 9

// probeResult is what one call costs the backend at one collection size,
// in milliseconds (median of probeRounds).
type probeResult struct {
	Documents  int     `json:"documents"`
	EqualQuery float64 `json:"equalQueryMs"` // projectId == x, 10 matches
	InQuery    float64 `json:"inQuery10Ms"`  // projectId in [10 ids], 100 matches
	ListColls  float64 `json:"listCollectionIdsMs"`
	Get        float64 `json:"getMs"`
}

// probe measures what the calls the watcher makes cost the backend as a
// collection grows: on real Firestore a query costs what it returns, on
// the emulator what the collection holds. The table explains S1–S4. It
// runs after the scenarios, on a warm emulator.
func (b *bench) probe(ctx context.Context) ([]probeResult, error) {
	var out []probeResult
	for _, n := range probeSizes {
		var r probeResult
		err := b.env.scratch(ctx, fmt.Sprintf("bench-%s-probe-%d", b.env.runID, n), func(c *firestore.Client) (err error) {
			r, err = probeAt(ctx, c, n)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("probe at %d documents: %w", n, err)
		}
		b.log.Info().Int("documents", n).Float64("equalQueryMs", r.EqualQuery).Float64("inQuery10Ms", r.InQuery).
			Float64("listCollectionIdsMs", r.ListColls).Float64("getMs", r.Get).Msg("backend probe")
		out = append(out, r)
	}
	return out, nil
}

// warmUp runs the probe's calls on a small collection a few times, unmeasured:
// the emulator's JIT makes its first minute slow, which would otherwise fall
// on the first run of S1.
func (b *bench) warmUp(ctx context.Context) error {
	start := time.Now()
	err := b.env.scratch(ctx, fmt.Sprintf("bench-%s-warmup", b.env.runID), func(c *firestore.Client) error {
		for range 3 {
			if _, err := probeAt(ctx, c, probeSizes[0]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("warming up the emulator: %w", err)
	}
	b.log.Info().Int64("durationMs", time.Since(start).Milliseconds()).Msg("emulator warmed up")
	return nil
}

func probeAt(ctx context.Context, c *firestore.Client, n int) (probeResult, error) {
	coll := c.Collection("probe")
	projects := n / 10
	bw := c.BulkWriter(ctx)
	for i := range n {
		if _, err := bw.Set(coll.Doc(fmt.Sprintf("d%06d", i)), map[string]any{"projectId": fmt.Sprintf("p%d", i%projects), "projectName": "x"}); err != nil {
			return probeResult{}, err
		}
	}
	bw.End()
	ids := make([]any, 10)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%d", i)
	}
	r := probeResult{Documents: n}
	var err error
	timings := []struct {
		into *float64
		call func(i int) error
	}{
		{&r.EqualQuery, func(i int) error {
			_, err := coll.Where("projectId", "==", fmt.Sprintf("p%d", i)).Select().Documents(ctx).GetAll()
			return err
		}},
		{&r.InQuery, func(int) error {
			_, err := coll.Where("projectId", "in", ids).Select().Documents(ctx).GetAll()
			return err
		}},
		{&r.ListColls, func(i int) error {
			_, err := coll.Doc(fmt.Sprintf("d%06d", i)).Collections(ctx).GetAll()
			return err
		}},
		{&r.Get, func(i int) error {
			_, err := coll.Doc(fmt.Sprintf("d%06d", i)).Get(ctx)
			return err
		}},
	}
	for _, t := range timings {
		if *t.into, err = medianMillis(t.call); err != nil {
			return r, err
		}
	}
	return r, nil
}

// medianMillis times call probeRounds times (after one warm-up call).
func medianMillis(call func(i int) error) (float64, error) {
	if err := call(probeRounds); err != nil {
		return 0, err
	}
	took := make([]float64, probeRounds)
	for i := range took {
		start := time.Now()
		if err := call(i); err != nil {
			return 0, err
		}
		took[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	sort.Float64s(took)
	return took[probeRounds/2], nil
}
