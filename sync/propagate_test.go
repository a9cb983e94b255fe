package sync

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// updateCase is one case of TestUpdateProject: a rename or removal of
// copied fields, on a seeded project.
type updateCase struct {
	name   string
	fields []config.Field
	seed   docs
	set    map[string]any
	unset  []string
	want   docs // the whole project afterwards
	report map[string]event.CollectionReport
}

var (
	caseOID  = bson.NewObjectID()
	caseWhen = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
)

// updateCases are TestUpdateProject's cases.
var updateCases = []updateCase{
	{
		name:   "rename changes every copy of that project only",
		fields: []config.Field{{Source: "name", Target: "projectName"}},
		seed: docs{
			"storyboards/s1":         {"projectId": "p1", "projectName": "Old", "title": "t"},
			"storyboards/s1/notes/n": {"projectId": "p1", "projectName": "Old"}, // not queried: not a configured collection
			"storyboards/s2":         {"projectId": "p2", "projectName": "Other"},
			"aiAnalyses/a1":          {"projectId": "p1", "projectName": "Old"},
			"aiAnalyses/a2":          {"projectId": "p1"},                       // no copy yet: gets one
			"generatedMedia/m1":      {"projectId": "p1", "projectName": "New"}, // already right
			"generatedMedia/m2":      {"projectId": "p2", "projectName": "Old"},
		},
		set: map[string]any{"name": "New"},
		want: docs{
			"storyboards/s1":         {"projectId": "p1", "projectName": "New", "title": "t"},
			"storyboards/s1/notes/n": {"projectId": "p1", "projectName": "Old"},
			"storyboards/s2":         {"projectId": "p2", "projectName": "Other"},
			"aiAnalyses/a1":          {"projectId": "p1", "projectName": "New"},
			"aiAnalyses/a2":          {"projectId": "p1", "projectName": "New"},
			"generatedMedia/m1":      {"projectId": "p1", "projectName": "New"},
			"generatedMedia/m2":      {"projectId": "p2", "projectName": "Old"},
		},
		report: map[string]event.CollectionReport{
			"storyboards":    {Collection: "storyboards", Matched: 1, Updated: 1},
			"aiAnalyses":     {Collection: "aiAnalyses", Matched: 2, Updated: 2},
			"generatedMedia": {Collection: "generatedMedia", Matched: 1, Updated: 0},
		},
	},
	{
		name:   "nested target path",
		fields: []config.Field{{Source: "name", Target: "project.name"}},
		seed: docs{
			"storyboards/s1":    {"projectId": "p1", "project": map[string]any{"name": "Old", "owner": "ann"}},
			"storyboards/s2":    {"projectId": "p1"},
			"generatedMedia/m1": {"projectId": "p2", "project": map[string]any{"name": "Old"}},
		},
		set: map[string]any{"name": "New"},
		want: docs{
			"storyboards/s1":    {"projectId": "p1", "project": map[string]any{"name": "New", "owner": "ann"}},
			"storyboards/s2":    {"projectId": "p1", "project": map[string]any{"name": "New"}},
			"generatedMedia/m1": {"projectId": "p2", "project": map[string]any{"name": "Old"}},
		},
		report: map[string]event.CollectionReport{
			"storyboards":    {Collection: "storyboards", Matched: 2, Updated: 2},
			"aiAnalyses":     {Collection: "aiAnalyses"},
			"generatedMedia": {Collection: "generatedMedia"},
		},
	},
	{
		name:   "unset removes the field",
		fields: []config.Field{{Source: "name", Target: "projectName"}, {Source: "owner.name", Target: "meta.owner"}},
		seed: docs{
			"storyboards/s1":    {"projectId": "p1", "projectName": "Old", "meta": map[string]any{"owner": "ann", "k": "v"}},
			"aiAnalyses/a1":     {"projectId": "p1"},
			"generatedMedia/m1": {"projectId": "p2", "projectName": "Old", "meta": map[string]any{"owner": "bob"}},
		},
		unset: []string{"name", "owner.name"},
		want: docs{
			"storyboards/s1":    {"projectId": "p1", "meta": map[string]any{"k": "v"}},
			"aiAnalyses/a1":     {"projectId": "p1"},
			"generatedMedia/m1": {"projectId": "p2", "projectName": "Old", "meta": map[string]any{"owner": "bob"}},
		},
		report: map[string]event.CollectionReport{
			"storyboards":    {Collection: "storyboards", Matched: 1, Updated: 1},
			"aiAnalyses":     {Collection: "aiAnalyses", Matched: 1},
			"generatedMedia": {Collection: "generatedMedia"},
		},
	},
	{
		name: "field mapped to a subset of collections",
		fields: []config.Field{
			{Source: "name", Target: "projectName", Collections: []string{"storyboards"}},
			{Source: "owner", Target: "ownerName", Collections: []string{"aiAnalyses", "generatedMedia"}},
		},
		seed: docs{
			"storyboards/s1":    {"projectId": "p1", "projectName": "Old", "ownerName": "ann"},
			"aiAnalyses/a1":     {"projectId": "p1", "projectName": "Old", "ownerName": "ann"},
			"generatedMedia/m1": {"projectId": "p1", "ownerName": "ann"},
		},
		set: map[string]any{"name": "New", "owner": "bob"},
		want: docs{
			"storyboards/s1":    {"projectId": "p1", "projectName": "New", "ownerName": "ann"},
			"aiAnalyses/a1":     {"projectId": "p1", "projectName": "Old", "ownerName": "bob"},
			"generatedMedia/m1": {"projectId": "p1", "ownerName": "bob"},
		},
		report: map[string]event.CollectionReport{
			"storyboards":    {Collection: "storyboards", Matched: 1, Updated: 1},
			"aiAnalyses":     {Collection: "aiAnalyses", Matched: 1, Updated: 1},
			"generatedMedia": {Collection: "generatedMedia", Matched: 1, Updated: 1},
		},
	},
	{
		name: "bson values are stored as Firestore values",
		fields: []config.Field{
			{Source: "meta", Target: "projectMeta", Collections: []string{"storyboards"}},
			{Source: "createdAt", Target: "projectCreatedAt", Collections: []string{"storyboards"}},
		},
		seed: docs{"storyboards/s1": {"projectId": "p1"}},
		set: map[string]any{
			"meta":      bson.D{{Key: "owner", Value: caseOID}, {Key: "n", Value: int32(3)}, {Key: "tags", Value: bson.A{"x", int32(1)}}},
			"createdAt": bson.NewDateTimeFromTime(caseWhen),
		},
		want: docs{"storyboards/s1": {
			"projectId":        "p1",
			"projectMeta":      map[string]any{"owner": caseOID.Hex(), "n": int64(3), "tags": []any{"x", int64(1)}},
			"projectCreatedAt": caseWhen,
		}},
		report: map[string]event.CollectionReport{
			"storyboards": {Collection: "storyboards", Matched: 1, Updated: 1},
		},
	},
	{
		name:   "a source that is not copied changes nothing",
		fields: []config.Field{{Source: "name", Target: "projectName"}},
		seed:   docs{"storyboards/s1": {"projectId": "p1", "projectName": "Old", "color": "red"}},
		set:    map[string]any{"color": "blue"},
		unset:  []string{"description"},
		want:   docs{"storyboards/s1": {"projectId": "p1", "projectName": "Old", "color": "red"}},
		report: map[string]event.CollectionReport{},
	},
}

func TestUpdateProject(t *testing.T) {
	for _, tt := range updateCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := threeCollections(ModeDelete)
			cfg.Fields = tt.fields
			a, client, _ := newApplier(t, cfg, WithPageSize(1))
			firestoretest.SeedPaths(t, client, tt.seed)
			ctx := testContext(t)

			rep, err := a.updateProject(ctx, "p1", tt.set, tt.unset)
			if err != nil {
				t.Fatalf("updateProject: %v", err)
			}
			if got := reportOf(rep); !reflect.DeepEqual(got, tt.report) {
				t.Errorf("report = %+v, want %+v", got, tt.report)
			}
			assertDocs(t, client, tt.want)

			// A replay writes nothing.
			rep, err = a.updateProject(ctx, "p1", tt.set, tt.unset)
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			for _, c := range rep.Collections {
				if c.Updated != 0 {
					t.Errorf("replay updated %d documents of %s, want 0", c.Updated, c.Collection)
				}
			}
			assertDocs(t, client, tt.want)
		})
	}
}

func TestUpdateProjectManyPages(t *testing.T) {
	const assetsOfP1, pageSize = 450, 40
	cfg := threeCollections(ModeDelete)
	cfg.Collections = []config.Collection{{Name: "generatedMedia", Group: true}}
	a, client, _ := newApplier(t, cfg, WithPageSize(pageSize))
	seed := docs{}
	for i := range assetsOfP1 {
		// spread over two parents to page through a collection group
		parent := []string{"users/u1", "users/u2"}[i%2]
		seed[parent+"/generatedMedia/"+docID("m", i)] = map[string]any{"projectId": "p1", "projectName": "Old"}
	}
	seed["users/u3/generatedMedia/x"] = map[string]any{"projectId": "p2", "projectName": "Old"}
	firestoretest.SeedPaths(t, client, seed)

	rep, err := a.updateProject(testContext(t), "p1", map[string]any{"name": "New"}, nil)
	if err != nil {
		t.Fatalf("updateProject: %v", err)
	}
	want := event.CollectionReport{Collection: "generatedMedia", Matched: assetsOfP1, Updated: assetsOfP1}
	if len(rep.Collections) != 1 || rep.Collections[0] != want {
		t.Errorf("report = %+v, want [%+v]", rep.Collections, want)
	}
	for p, d := range firestoretest.Dump(t, client) {
		wantName := "New"
		if d["projectId"] == "p2" {
			wantName = "Old"
		}
		if d["projectName"] != wantName {
			t.Errorf("%s projectName = %v, want %s", p, d["projectName"], wantName)
		}
	}
}

func TestUpdateProjectReportsRejectedWrites(t *testing.T) {
	a, client, _ := newApplier(t, threeCollections(ModeDelete))
	seed := docs{"storyboards/s1": {"projectId": "p1"}, "aiAnalyses/a1": {"projectId": "p1"}}
	firestoretest.SeedPaths(t, client, seed)
	tooBig := strings.Repeat("x", 1<<20+100) // over Firestore's 1 MiB document limit

	rep, err := a.updateProject(testContext(t), "p1", map[string]any{"name": tooBig}, nil)
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("updateProject error = %v, want the InvalidArgument of the rejected writes", err)
	}
	for _, c := range rep.Collections {
		if c.Updated != 0 {
			t.Errorf("%s: Updated = %d for rejected writes", c.Collection, c.Updated)
		}
	}
	assertDocs(t, client, seed)
}
