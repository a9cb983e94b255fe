package reconcile

import (
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Target is one copied field checked in a collection: the MongoDB source
// path (sync.fields[].source) and its Firestore field path.
type Target struct {
	Source string
	Path   []string
}

// Doc is one scanned asset document, as far as reconciliation reads it.
type Doc struct {
	Path      string // the document's path (for reports)
	HasID     bool   // the id field is present
	ProjectID any    // the id field's value, as Firestore returned it
	Archived  bool   // archive mode: the document is already archived
	// Copies holds the copied fields present in the document, by source
	// path; a missing key is a missing copy.
	Copies map[string]any
}

// Project is a project found in MongoDB.
type Project struct {
	// ID is the project's _id as stored (an ObjectID or a string): a
	// repair names it, so that the existence rules can tell the project
	// from a twin with the other form of the id.
	ID bson.RawValue
	// Values holds the copied source fields present in the project, after
	// bsonvalue.Plain; a missing key is a field absent from the project.
	Values map[string]any
	// Skip lists source fields whose value cannot be copied (a type
	// bsonvalue.Plain rejects): they are not compared.
	Skip map[string]bool
}

// Lookup is the outcome of one successful lookup of a batch of project ids.
type Lookup struct {
	Asked map[string]bool    // every project id the lookup asked for
	Found map[string]Project // the projects that exist
}

// Checks selects what is looked for.
type Checks struct {
	Orphans bool
	Drift   bool
}

// Repair is what brings one project's copies in line with MongoDB: every
// copied field of the collection, set or unset as the batch's lookup found
// it (documents already right are not written). The repair itself reads
// these fields again right before it writes (see Reconciler), so Set and
// Unset say what the scan saw, not what is written.
type Repair struct {
	ID    bson.RawValue // the project's _id as found
	Set   map[string]any
	Unset []string
	Docs  int // drifted documents of the batch
}

// Fields are the source fields the repair copies (set or unset), sorted.
func (r *Repair) Fields() []string {
	fields := append(make([]string, 0, len(r.Set)+len(r.Unset)), r.Unset...)
	for f := range r.Set {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	return slices.Compact(fields)
}

// BatchPlan is what a batch of scanned documents needs.
type BatchPlan struct {
	Orphans map[string]int     // project id → its documents in the batch
	Drift   map[string]*Repair // project id → its repair
	// Invalid lists the documents whose id field is not a project id the
	// watcher writes (see ValidID): reported, never used for a query nor
	// repaired.
	Invalid []string
	// NoID counts documents without the id field (not assets of a project).
	NoID int
	// Unchecked counts documents whose project id the lookup did not ask
	// for: never treated as orphans.
	Unchecked int
}

// ValidID returns the project id a document's id field holds; ok is false
// when it is not a string, is empty or blank, or is 24 hex digits with an
// uppercase letter: the watcher writes an ObjectID as lowercase hex, so
// such an id is a mistyped ObjectID (whose project may well live), never
// an id to look up or clean up.
func ValidID(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" || upperHex(s) {
		return "", false
	}
	return s, true
}

// upperHex reports whether s is 24 hex digits with at least one uppercase
// letter.
func upperHex(s string) bool {
	if len(s) != 24 {
		return false
	}
	upper := false
	for _, c := range []byte(s) {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return false
		}
	}
	return upper
}

// Plan decides what a batch of scanned documents of one collection needs,
// given the outcome of a successful lookup of their project ids. targets
// are the copies configured for the collection. It is pure.
//
// A document is an orphan when its project id was asked for and not found
// (archived documents are already cleaned up and never orphans). A document
// of a live project has drifted when one of its copies differs from the
// project's value, is missing while the project has the field, or is
// present while the project lacks the field.
func Plan(targets []Target, docs []Doc, look Lookup, checks Checks) BatchPlan {
	p := BatchPlan{Orphans: map[string]int{}, Drift: map[string]*Repair{}}
	for _, d := range docs {
		if !d.HasID {
			p.NoID++
			continue
		}
		pid, ok := ValidID(d.ProjectID)
		if !ok {
			p.Invalid = append(p.Invalid, d.Path)
			continue
		}
		if !look.Asked[pid] {
			p.Unchecked++
			continue
		}
		project, live := look.Found[pid]
		if !live {
			if checks.Orphans && !d.Archived {
				p.Orphans[pid]++
			}
			continue
		}
		if !checks.Drift || !drifted(d, project, targets) {
			continue
		}
		r := p.Drift[pid]
		if r == nil {
			r = repairFor(project, targets)
			p.Drift[pid] = r
		}
		r.Docs++
	}
	return p
}

// drifted reports whether one of d's copies differs from project.
func drifted(d Doc, project Project, targets []Target) bool {
	for _, t := range targets {
		if project.Skip[t.Source] {
			continue
		}
		want, inProject := project.Values[t.Source]
		got, inDoc := d.Copies[t.Source]
		switch {
		case inProject != inDoc:
			return true
		case inProject && !sameValue(got, want):
			return true
		}
	}
	return false
}

// repairFor sets or unsets every copied field of the collection as the
// project has it.
func repairFor(project Project, targets []Target) *Repair {
	r := &Repair{ID: project.ID, Set: map[string]any{}}
	for _, t := range targets {
		if project.Skip[t.Source] {
			continue
		}
		if v, ok := project.Values[t.Source]; ok {
			r.Set[t.Source] = v
		} else if !slices.Contains(r.Unset, t.Source) {
			r.Unset = append(r.Unset, t.Source)
		}
	}
	return r
}
