package event

// CollectionReport counts what one event did in one configured collection.
type CollectionReport struct {
	Collection string
	Matched    int // documents of the project found
	Deleted    int // documents deleted (subcollection documents included)
	Archived   int // documents marked archived
	Updated    int // documents whose copied fields were rewritten
}

// Report is what applying one event did, per collection.
type Report struct {
	Collections []CollectionReport
}

// Total is the sum of Matched over the report's collections.
func (r Report) Total() int {
	n := 0
	for _, c := range r.Collections {
		n += c.Matched
	}
	return n
}
