package reconcile

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

// planCase is one batch of documents, the lookup of their projects and
// the plan Plan must make of them.
type planCase struct {
	name   string
	docs   []Doc
	look   Lookup
	checks Checks
	want   BatchPlan
}

func TestPlan(t *testing.T) {
	for _, tc := range planCases {
		t.Run(tc.name, func(t *testing.T) { checkPlan(t, tc) })
	}
}

// checkPlan plans tc's batch with planTargets; no checks in tc means both.
func checkPlan(t *testing.T, tc planCase) {
	checks := tc.checks
	if checks == (Checks{}) {
		checks = Checks{Orphans: true, Drift: true}
	}
	got := Plan(planTargets, tc.docs, tc.look, checks)
	want := tc.want
	if want.Orphans == nil {
		want.Orphans = map[string]int{}
	}
	if want.Drift == nil {
		want.Drift = map[string]*Repair{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Plan =\n%+v\nwant\n%+v", printable(got), printable(want))
	}
}

// planTargets are the copies of every planCase: name and owner.team.
var planTargets = []Target{
	{Source: "name", Path: []string{"projectName"}},
	{Source: "owner.team", Path: []string{"project", "team"}},
}

// The projects planCases find: planLive has both copied fields, planNoTeam
// lacks owner.team.
var (
	planLive   = Project{Values: map[string]any{"name": "Alpha", "owner.team": "red"}}
	planNoTeam = Project{Values: map[string]any{"name": "Beta"}}
)

// askedIDs is the Asked set of a Lookup that asked for ids.
func askedIDs(ids ...string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// planDoc is a scanned document with a project id.
func planDoc(path string, pid any, copies map[string]any) Doc {
	return Doc{Path: path, HasID: true, ProjectID: pid, Copies: copies}
}

var planCases = []planCase{
	{
		name: "consistent documents need nothing",
		docs: []Doc{planDoc("a/1", "p1", map[string]any{"name": "Alpha", "owner.team": "red"})},
		look: Lookup{Asked: askedIDs("p1"), Found: map[string]Project{"p1": planLive}},
		want: BatchPlan{},
	},
	{
		name: "a project not found makes orphans, counted per document",
		docs: []Doc{planDoc("a/1", "gone", nil), planDoc("a/2", "gone", nil), planDoc("a/3", "p1", map[string]any{"name": "Alpha", "owner.team": "red"})},
		look: Lookup{Asked: askedIDs("gone", "p1"), Found: map[string]Project{"p1": planLive}},
		want: BatchPlan{Orphans: map[string]int{"gone": 2}},
	},
	{
		name: "an id the lookup did not ask for is never an orphan",
		docs: []Doc{planDoc("a/1", "notasked", nil)},
		look: Lookup{Asked: askedIDs("p1"), Found: map[string]Project{}},
		want: BatchPlan{Unchecked: 1},
	},
	{
		name: "archived documents of a deleted project are already cleaned",
		docs: []Doc{{Path: "a/1", HasID: true, ProjectID: "gone", Archived: true}},
		look: Lookup{Asked: askedIDs("gone"), Found: map[string]Project{}},
		want: BatchPlan{},
	},
	{
		name: "empty, blank and non-string ids are reported, missing ids counted",
		docs: []Doc{planDoc("a/1", "", nil), planDoc("a/2", "  ", nil), planDoc("a/3", int64(7), nil), {Path: "a/4"}},
		look: Lookup{Asked: askedIDs(""), Found: map[string]Project{}},
		want: BatchPlan{Invalid: []string{"a/1", "a/2", "a/3"}, NoID: 1},
	},
	{
		name: "an ObjectID's hex in uppercase is invalid, never an orphan",
		docs: []Doc{planDoc("a/1", "65F0A1B2C3D4E5F60718293A", nil), planDoc("a/2", "65f0a1b2c3d4e5f60718293a", nil)},
		look: Lookup{Asked: askedIDs("65f0a1b2c3d4e5f60718293a"), Found: map[string]Project{}},
		want: BatchPlan{Invalid: []string{"a/1"}, Orphans: map[string]int{"65f0a1b2c3d4e5f60718293a": 1}},
	},
	{
		name: "a changed copy drifts; the repair sets every copy",
		docs: []Doc{planDoc("a/1", "p1", map[string]any{"name": "Old", "owner.team": "red"}), planDoc("a/2", "p1", map[string]any{"name": "Old", "owner.team": "red"})},
		look: Lookup{Asked: askedIDs("p1"), Found: map[string]Project{"p1": planLive}},
		want: BatchPlan{Drift: map[string]*Repair{"p1": {Set: map[string]any{"name": "Alpha", "owner.team": "red"}, Docs: 2}}},
	},
	{
		name: "a missing copy drifts",
		docs: []Doc{planDoc("a/1", "p1", map[string]any{"name": "Alpha"})},
		look: Lookup{Asked: askedIDs("p1"), Found: map[string]Project{"p1": planLive}},
		want: BatchPlan{Drift: map[string]*Repair{"p1": {Set: map[string]any{"name": "Alpha", "owner.team": "red"}, Docs: 1}}},
	},
	{
		name: "a copy of a field the project lacks drifts and is unset",
		docs: []Doc{planDoc("a/1", "p2", map[string]any{"name": "Beta", "owner.team": "blue"}), planDoc("a/2", "p2", map[string]any{"name": "Beta"})},
		look: Lookup{Asked: askedIDs("p2"), Found: map[string]Project{"p2": planNoTeam}},
		want: BatchPlan{Drift: map[string]*Repair{"p2": {Set: map[string]any{"name": "Beta"}, Unset: []string{"owner.team"}, Docs: 1}}},
	},
	{
		name: "a field that cannot be copied is not compared",
		docs: []Doc{planDoc("a/1", "p3", map[string]any{"name": "Gamma", "owner.team": "whatever"})},
		look: Lookup{Asked: askedIDs("p3"), Found: map[string]Project{"p3": {Values: map[string]any{"name": "Gamma"}, Skip: map[string]bool{"owner.team": true}}}},
		want: BatchPlan{},
	},
	{
		name:   "orphans only: drift is not looked for",
		docs:   []Doc{planDoc("a/1", "gone", nil), planDoc("a/2", "p1", map[string]any{"name": "Old"})},
		look:   Lookup{Asked: askedIDs("gone", "p1"), Found: map[string]Project{"p1": planLive}},
		checks: Checks{Orphans: true},
		want:   BatchPlan{Orphans: map[string]int{"gone": 1}},
	},
	{
		name:   "drift only: orphans are not counted",
		docs:   []Doc{planDoc("a/1", "gone", nil), planDoc("a/2", "p1", map[string]any{"name": "Old", "owner.team": "red"})},
		look:   Lookup{Asked: askedIDs("gone", "p1"), Found: map[string]Project{"p1": planLive}},
		checks: Checks{Drift: true},
		want:   BatchPlan{Drift: map[string]*Repair{"p1": {Set: map[string]any{"name": "Alpha", "owner.team": "red"}, Docs: 1}}},
	},
}

func printable(p BatchPlan) map[string]any {
	drift := map[string]Repair{}
	for k, v := range p.Drift {
		drift[k] = *v
	}
	return map[string]any{"orphans": p.Orphans, "drift": drift, "invalid": p.Invalid, "noID": p.NoID, "unchecked": p.Unchecked}
}

func TestSameValue(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	tests := []struct {
		name   string
		stored any
		want   any
		same   bool
	}{
		{"equal strings", "a", "a", true},
		{"different strings", "a", "b", false},
		{"int vs float", int64(1), float64(1), false},
		{"equal ints", int64(3), int64(3), true},
		{"NaN equals NaN", math.NaN(), math.NaN(), true},
		{"nil vs nil", nil, nil, true},
		{"nil vs string", nil, "", false},
		{"time in another zone", at.In(time.FixedZone("x", 3600)), at, true},
		{"different times", at.Add(time.Microsecond), at, false},
		{"bytes", []byte("ab"), []byte("ab"), true},
		{"nested maps", map[string]any{"a": []any{int64(1), "x"}}, map[string]any{"a": []any{int64(1), "x"}}, true},
		{"map with an extra key", map[string]any{"a": int64(1), "b": nil}, map[string]any{"a": int64(1)}, false},
		{"arrays of different length", []any{int64(1)}, []any{int64(1), int64(2)}, false},
		{"a type bsonvalue.Plain never yields", "a", int32(1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameValue(tt.stored, tt.want); got != tt.same {
				t.Errorf("sameValue(%#v, %#v) = %v, want %v", tt.stored, tt.want, got, tt.same)
			}
		})
	}
}

func TestIDForms(t *testing.T) {
	tests := []struct {
		id    string
		forms int
	}{
		{"0123456789abcdef01234567", 2},
		{"0123456789ABCDEF01234567", 1}, // the watcher writes ObjectIDs in lowercase
		{"custom-id", 1},
		{"0123456789abcdef0123456", 1},
	}
	for _, tt := range tests {
		got := idForms(tt.id)
		if len(got) != tt.forms || !slices.Contains(got, any(tt.id)) {
			t.Errorf("idForms(%q) = %v, want %d forms including the string", tt.id, got, tt.forms)
		}
	}
}

func TestValidID(t *testing.T) {
	for v, want := range map[any]bool{
		"p1": true, "65f0a1b2c3d4e5f60718293a": true, "": false, " ": false, int64(1): false,
		"65F0A1B2C3D4E5F60718293A": false, "65f0a1b2c3d4e5f60718293A": false,
		"65F0A1B2C3D4E5F60718293": true, "PROJECT-ABCDEFGHIJKLMNOPQ": true, // not 24 hex digits
	} {
		if _, got := ValidID(v); got != want {
			t.Errorf("ValidID(%#v) = %v, want %v", v, got, want)
		}
	}
}
