package resume

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestFencedSave runs a sequence of writes by stores with different epochs
// and checks which are refused and what stays stored.
func TestFencedSave(t *testing.T) {
	type write struct {
		epoch   int64
		claim   bool   // Claim instead of Save
		token   string // Save's token
		refused bool
	}
	tests := []struct {
		name      string
		plainSave string // saved first by a plain (unfenced) MongoStore
		writes    []write
		wantToken string // "" : no checkpoint
		wantEpoch int64
	}{
		{
			name:      "first save creates the document with the epoch",
			writes:    []write{{epoch: 1, token: "a"}},
			wantToken: "a", wantEpoch: 1,
		},
		{
			name:      "same epoch saves again",
			writes:    []write{{epoch: 2, token: "a"}, {epoch: 2, token: "b"}},
			wantToken: "b", wantEpoch: 2,
		},
		{
			name:      "an older epoch is refused after a newer save",
			writes:    []write{{epoch: 1, token: "a"}, {epoch: 2, token: "b"}, {epoch: 1, token: "late", refused: true}},
			wantToken: "b", wantEpoch: 2,
		},
		{
			name:      "a claim fences the older leader before the new one saves",
			writes:    []write{{epoch: 1, token: "a"}, {epoch: 2, claim: true}, {epoch: 1, token: "late", refused: true}},
			wantToken: "a", wantEpoch: 2,
		},
		{
			name:      "a claim without a checkpoint is not a checkpoint",
			writes:    []write{{epoch: 3, claim: true}, {epoch: 2, token: "late", refused: true}},
			wantToken: "", wantEpoch: 3,
		},
		{
			name:      "an older claim is refused",
			writes:    []write{{epoch: 5, token: "a"}, {epoch: 4, claim: true, refused: true}},
			wantToken: "a", wantEpoch: 5,
		},
		{
			name:      "a checkpoint written without leases is taken over",
			plainSave: "plain",
			writes:    []write{{epoch: 1, claim: true}, {epoch: 1, token: "b"}},
			wantToken: "b", wantEpoch: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			client, db := mongoClient(t)
			cfg := config.Resume{Store: "mongo", Name: "fenced", Database: db, Collection: "checkpoints"}
			plain := NewMongoStore(client, cfg)
			if tt.plainSave != "" {
				if err := plain.Save(ctx, event.Checkpoint{Token: token(t, tt.plainSave)}); err != nil {
					t.Fatal(err)
				}
			}
			for i, w := range tt.writes {
				var fencedCalls []error
				var mu sync.Mutex
				f, err := NewFenced(plain, w.epoch, func(err error) { mu.Lock(); fencedCalls = append(fencedCalls, err); mu.Unlock() })
				if err != nil {
					t.Fatal(err)
				}
				if w.claim {
					err = f.Claim(ctx)
				} else {
					err = f.Save(ctx, event.Checkpoint{Token: token(t, w.token), ClusterTime: bson.Timestamp{T: uint32(i + 1)}})
				}
				if got := errors.Is(err, ErrFenced); got != w.refused {
					t.Fatalf("write %d (epoch %d): err %v, want refused %v", i, w.epoch, err, w.refused)
				}
				if !w.refused && err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
				if w.refused && (len(fencedCalls) != 1 || !errors.Is(fencedCalls[0], ErrFenced)) {
					t.Fatalf("write %d: onFenced calls %v, want one ErrFenced", i, fencedCalls)
				}
			}
			cp, ok, err := plain.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantToken == "" && ok:
				t.Errorf("Load found %+v, want no checkpoint", cp)
			case tt.wantToken != "" && (!ok || string(cp.Token) != string(token(t, tt.wantToken))):
				t.Errorf("Load = %v ok %v, want token %q", cp.Token, ok, tt.wantToken)
			}
			epoch, err := plain.StoredEpoch(ctx)
			if err != nil || epoch != tt.wantEpoch {
				t.Errorf("StoredEpoch = %d, %v; want %d", epoch, err, tt.wantEpoch)
			}
		})
	}
}

func TestNewFencedRejects(t *testing.T) {
	client, db := mongoClient(t)
	s := NewMongoStore(client, config.Resume{Name: "x", Database: db, Collection: "c"})
	tests := []struct {
		name  string
		store *MongoStore
		epoch int64
	}{
		{"nil store", nil, 1},
		{"zero epoch", s, 0},
		{"negative epoch", s, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewFenced(tt.store, tt.epoch, nil); err == nil {
				t.Error("NewFenced accepted it")
			}
		})
	}
}
