package watcher

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// benchChanges is a stream of deletes, updates of a copied field and updates
// of other fields over 1000 projects.
func benchChanges(b *testing.B) []event.Change {
	b.Helper()
	raw := func(v any) bson.Raw {
		r, err := bson.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	out := make([]event.Change, 3000)
	for i := range out {
		id := bson.NewObjectIDFromTimestamp(time.Unix(int64(i%1000), 0))
		ch := event.Change{
			Token:       raw(bson.D{{Key: "_data", Value: fmt.Sprintf("82%016X", i)}}),
			ClusterTime: bson.Timestamp{T: uint32(i)},
			DocumentKey: raw(bson.D{{Key: "_id", Value: id}}),
		}
		switch i % 3 {
		case 0:
			ch.Op = "delete"
		case 1:
			ch.Op = "update"
			ch.UpdatedFields = raw(bson.D{{Key: "name", Value: fmt.Sprint("project ", i)}})
		case 2:
			ch.Op = "update"
			ch.UpdatedFields = raw(bson.D{{Key: "members", Value: int32(i)}})
		}
		out[i] = ch
	}
	return out
}

// BenchmarkPipeline runs Derive → track → Dispatch → apply (no-op) →
// complete, with a checkpoint saver, and reports events/s.
func BenchmarkPipeline(b *testing.B) {
	changes := benchChanges(b)
	fields := []string{"name", "settings.color"}
	ck := newWatermark(nil)
	d := newDispatcher(nopApplier{}, ck, nil, zerolog.Nop(), 8, 64)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.Start(ctx)
	go newSaver(nopTokenStore{}, ck, NopObserver{}, zerolog.Nop()).every(ctx, time.Millisecond)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch := &changes[i%len(changes)]
		ev, ok, err := Derive(*ch, fields)
		if err != nil {
			b.Fatal(err)
		}
		if !ok {
			ck.Pass(ch.Token, ch.ClusterTime)
			continue
		}
		if err := d.Dispatch(ctx, ck.Track(ch.Token, ch.ClusterTime), ev); err != nil {
			b.Fatal(err)
		}
	}
	d.Close()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if ck.InFlight() != 0 || ck.Err() != nil {
		b.Fatalf("in flight %d, err %v after the drain", ck.InFlight(), ck.Err())
	}
}

// BenchmarkDispatchCheckpoint is the pipeline without Derive.
func BenchmarkDispatchCheckpoint(b *testing.B) {
	ck := newWatermark(nil)
	d := newDispatcher(nopApplier{}, ck, nil, zerolog.Nop(), 8, 64)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.Start(ctx)
	go newSaver(nopTokenStore{}, ck, NopObserver{}, zerolog.Nop()).every(ctx, time.Millisecond)
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = bson.NewObjectID().Hex()
	}
	token := bson.Raw(nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := event.Event{Kind: event.ProjectDeleted, ProjectID: ids[i%len(ids)]}
		if err := d.Dispatch(ctx, ck.Track(token, bson.Timestamp{T: uint32(i)}), ev); err != nil {
			b.Fatal(err)
		}
	}
	d.Close()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if ck.InFlight() != 0 {
		b.Fatalf("in flight %d after the drain", ck.InFlight())
	}
}
