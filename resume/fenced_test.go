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

// fencedWrite is one Save or Claim by a fenced store of epoch.
type fencedWrite struct {
	epoch   int64
	claim   bool   // Claim instead of Save
	token   string // Save's token
	refused bool
}

// fencedCase is a sequence of writes and the checkpoint and epoch they must
// leave stored.
type fencedCase struct {
	name      string
	plainSave string // saved first by a plain (unfenced) MongoStore
	writes    []fencedWrite
	wantToken string // "" : no checkpoint
	wantEpoch int64
}

// TestFencedSave runs a sequence of writes by stores with different epochs
// and checks which are refused and what stays stored.
func TestFencedSave(t *testing.T) {
	for _, tc := range fencedCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			client, db := mongoClient(t)
			cfg := config.Resume{Store: "mongo", Name: "fenced", Database: db, Collection: "checkpoints"}
			plain := NewMongoStore(client, cfg)
			if tc.plainSave != "" {
				if err := plain.Save(ctx, event.Checkpoint{Token: token(t, tc.plainSave)}); err != nil {
					t.Fatal(err)
				}
			}
			for i, w := range tc.writes {
				runFencedWrite(ctx, t, plain, i, w)
			}
			checkStored(ctx, t, plain, tc.wantToken, tc.wantEpoch)
		})
	}
}

// runFencedWrite makes write i, w, through a fenced store over plain and
// checks that it is refused, and onFenced called once, exactly when w says.
func runFencedWrite(ctx context.Context, t *testing.T, plain *MongoStore, i int, w fencedWrite) {
	t.Helper()
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

// checkStored checks plain's checkpoint token (wantToken "": none) and
// stored epoch.
func checkStored(ctx context.Context, t *testing.T, plain *MongoStore, wantToken string, wantEpoch int64) {
	t.Helper()
	cp, ok, err := plain.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case wantToken == "" && ok:
		t.Errorf("Load found %+v, want no checkpoint", cp)
	case wantToken != "" && (!ok || string(cp.Token) != string(token(t, wantToken))):
		t.Errorf("Load = %v ok %v, want token %q", cp.Token, ok, wantToken)
	}
	epoch, err := plain.StoredEpoch(ctx)
	if err != nil || epoch != wantEpoch {
		t.Errorf("StoredEpoch = %d, %v; want %d", epoch, err, wantEpoch)
	}
}

var fencedCases = []fencedCase{
	{
		name:      "first save creates the document with the epoch",
		writes:    []fencedWrite{{epoch: 1, token: "a"}},
		wantToken: "a", wantEpoch: 1,
	},
	{
		name:      "same epoch saves again",
		writes:    []fencedWrite{{epoch: 2, token: "a"}, {epoch: 2, token: "b"}},
		wantToken: "b", wantEpoch: 2,
	},
	{
		name:      "an older epoch is refused after a newer save",
		writes:    []fencedWrite{{epoch: 1, token: "a"}, {epoch: 2, token: "b"}, {epoch: 1, token: "late", refused: true}},
		wantToken: "b", wantEpoch: 2,
	},
	{
		name:      "a claim fences the older leader before the new one saves",
		writes:    []fencedWrite{{epoch: 1, token: "a"}, {epoch: 2, claim: true}, {epoch: 1, token: "late", refused: true}},
		wantToken: "a", wantEpoch: 2,
	},
	{
		name:      "a claim without a checkpoint is not a checkpoint",
		writes:    []fencedWrite{{epoch: 3, claim: true}, {epoch: 2, token: "late", refused: true}},
		wantToken: "", wantEpoch: 3,
	},
	{
		name:      "an older claim is refused",
		writes:    []fencedWrite{{epoch: 5, token: "a"}, {epoch: 4, claim: true, refused: true}},
		wantToken: "a", wantEpoch: 5,
	},
	{
		name:      "a checkpoint written without leases is taken over",
		plainSave: "plain",
		writes:    []fencedWrite{{epoch: 1, claim: true}, {epoch: 1, token: "b"}},
		wantToken: "b", wantEpoch: 1,
	},
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
