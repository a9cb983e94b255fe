package reconcile

import (
	"slices"
	"strings"
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

// Repair is what brings one project's copies in line with MongoDB: the
// Set and Unset of the ProjectUpdated repair (every copied field of the collection,
// set or unset as in MongoDB; documents already right are not written).
type Repair struct {
	Set   map[string]any
	Unset []string
	Docs  int // drifted documents of the batch
}

// BatchPlan is what a batch of scanned documents needs.
type BatchPlan struct {
	Orphans map[string]int     // project id → its documents in the batch
	Drift   map[string]*Repair // project id → its repair
	// Invalid lists the documents whose id field is empty or not a string:
	// reported, never used for a query nor repaired.
	Invalid []string
	// NoID counts documents without the id field (not assets of a project).
	NoID int
	// Unchecked counts documents whose project id the lookup did not ask
	// for: never treated as orphans.
	Unchecked int
}

// ValidID returns the project id a document's id field holds; ok is false
// when it is not a string, or empty or blank.
func ValidID(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return "", false
	}
	return s, true
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
	r := &Repair{Set: map[string]any{}}
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
