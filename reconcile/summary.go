package reconcile

import "time"

// maxListed bounds the invalid documents and errors a Summary lists.
const maxListed = 20

// CollectionSummary counts what a reconciliation found and repaired in one
// configured collection. Orphans and Drifted count documents found
// inconsistent; Repaired counts the documents the repairs changed.
type CollectionSummary struct {
	Collection string `json:"collection"`
	Scanned    int    `json:"scanned"`
	Orphans    int    `json:"orphans"`
	Drifted    int    `json:"drifted"`
	Repaired   int    `json:"repaired"`
	// Repaired split by kind: orphans cleaned, drifted copies rewritten.
	RepairedOrphans int `json:"repairedOrphans"`
	RepairedDrift   int `json:"repairedDrift"`
	Invalid         int `json:"invalid"`          // empty or non-string project id
	NoID            int `json:"withoutProjectId"` // no id field: not an asset
	Failed          int `json:"failedRepairs"`    // projects whose repair failed
	// Skipped counts the projects whose repair the existence rules refused
	// (a project with the id exists in the other id form, or again):
	// nothing was written for them.
	Skipped int `json:"skippedRepairs"`
}

// Summary is the outcome of one reconciliation.
type Summary struct {
	DryRun      bool                `json:"dryRun"`
	Started     time.Time           `json:"started"`
	Duration    time.Duration       `json:"-"`
	Seconds     float64             `json:"durationSeconds"`
	Collections []CollectionSummary `json:"collections"`
	Totals      CollectionSummary   `json:"totals"`
	// InvalidDocs lists (up to 20) documents with an invalid project id.
	InvalidDocs []string `json:"invalidDocuments,omitempty"`
	// Errors lists (up to 20) failed repairs and what stopped the run.
	Errors []string `json:"errors,omitempty"`
	// Skips lists (up to 20) skipped repairs with their reason.
	Skips []string `json:"skipped,omitempty"`
}

// Found is the number of inconsistent documents found: orphans, drifted
// copies and invalid project ids.
func (s Summary) Found() int {
	return s.Totals.Orphans + s.Totals.Drifted + s.Totals.Invalid
}

// total sums the collections into Totals and sets Seconds.
func (s *Summary) total() {
	t := CollectionSummary{Collection: "total"}
	for _, c := range s.Collections {
		t.Scanned += c.Scanned
		t.Orphans += c.Orphans
		t.Drifted += c.Drifted
		t.Repaired += c.Repaired
		t.RepairedOrphans += c.RepairedOrphans
		t.RepairedDrift += c.RepairedDrift
		t.Invalid += c.Invalid
		t.NoID += c.NoID
		t.Failed += c.Failed
		t.Skipped += c.Skipped
	}
	s.Totals = t
	s.Seconds = s.Duration.Seconds()
}

func (s *Summary) addError(msg string) {
	if len(s.Errors) < maxListed {
		s.Errors = append(s.Errors, msg)
	}
}

func (s *Summary) addSkip(msg string) {
	if len(s.Skips) < maxListed {
		s.Skips = append(s.Skips, msg)
	}
}
