package mongotest

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// parsePipeline checks the stages after $changeStream: those a change
// stream allows, and $changeStreamSplitLargeEvent as the last one (taken
// out of the pipeline and applied by the stream itself).
func (st *streamState) parsePipeline() error {
	kept := make(bson.A, 0, len(st.pipeline))
	for i, raw := range st.pipeline {
		stage, ok := raw.(bson.D)
		if !ok || len(stage) != 1 {
			return errf(40323, "A pipeline stage specification object must contain exactly one field.")
		}
		name := stage[0].Key
		switch {
		case name == "$changeStreamSplitLargeEvent":
			if i != len(st.pipeline)-1 {
				return errf(7182802, "$changeStreamSplitLargeEvent must be the last stage in the pipeline")
			}
			if d, ok := stage[0].Value.(bson.D); !ok || len(d) != 0 {
				return errf(7182800, "$changeStreamSplitLargeEvent argument must be an empty object")
			}
			st.split = true
			continue
		case !knownStages[name]:
			return errf(40324, "Unrecognized pipeline stage name: '%s'", name)
		case name == "$redact":
			return errf(2, "mongotest does not implement the $redact stage")
		case !streamStages[name]:
			return errf(5491300, "%s is not permitted in a $changeStream pipeline", name)
		}
		kept = append(kept, raw)
	}
	st.pipeline = kept
	return nil
}

func systemColl(name string) bool { return strings.HasPrefix(name, "system.") }

// itemsFor lists what event e produces on stream st: nothing, the event,
// the event and an invalidate, or (kinds in order). DDL events other than
// drop, rename and dropDatabase show only with showExpandedEvents.
func (s *Server) itemsFor(st *streamState, e *changeEvent) []byte {
	one := []byte{kindEvent}
	withInvalidate := []byte{kindEvent, kindInvalidate}
	if expandedOps[e.op] && !st.expanded {
		return nil
	}
	switch {
	case st.db == "":
		if e.db == "admin" || e.db == "config" || e.db == "local" || systemColl(e.coll) {
			return nil
		}
		return one
	case st.coll == "":
		if e.db != st.db || systemColl(e.coll) {
			return nil
		}
		if e.op == "dropDatabase" {
			return withInvalidate
		}
		return one
	default:
		if e.db != st.db || e.coll != st.coll || e.op == "dropDatabase" {
			return nil
		}
		if e.op == "drop" || e.op == "rename" {
			return withInvalidate
		}
		return one
	}
}

// renderLocked builds the change event document, as MongoDB 7.0 shows it.
func (s *Server) renderLocked(st *streamState, e *changeEvent, kind byte) (bson.D, error) {
	d := bson.D{
		{Key: "_id", Value: makeToken(e.ts, kind)},
		{Key: "operationType", Value: e.op},
		{Key: "clusterTime", Value: e.ts},
		{Key: "wallTime", Value: bson.NewDateTimeFromTime(e.wall)},
	}
	if kind == kindInvalidate {
		d[1].Value = "invalidate"
		return d, nil
	}
	if st.expanded && e.op != "dropDatabase" {
		d = append(d, bson.E{Key: "collectionUUID", Value: e.uuid})
	}
	ns := bson.D{{Key: "db", Value: e.db}}
	if e.op != "dropDatabase" {
		ns = append(ns, bson.E{Key: "coll", Value: e.coll})
	}
	key := bson.E{Key: "documentKey", Value: bson.D{{Key: "_id", Value: e.key}}}
	switch e.op {
	case "insert", "replace":
		d = append(d, bson.E{Key: "fullDocument", Value: e.post}, bson.E{Key: "ns", Value: ns}, key)
	case "update":
		d = append(d, bson.E{Key: "ns", Value: ns}, key, bson.E{Key: "updateDescription", Value: st.updateDescription(e)})
		full, err := s.postImageLocked(st, e)
		if err != nil {
			return nil, err
		}
		if st.fullDoc != "default" {
			d = append(d, bson.E{Key: "fullDocument", Value: full})
		}
	case "delete":
		d = append(d, bson.E{Key: "ns", Value: ns}, key)
	case "drop", "dropDatabase":
		d = append(d, bson.E{Key: "ns", Value: ns})
	case "rename":
		d = append(d, bson.E{Key: "ns", Value: ns}, bson.E{Key: "to", Value: bson.D{{Key: "db", Value: e.toDB}, {Key: "coll", Value: e.toColl}}})
		if st.expanded {
			d = append(d, bson.E{Key: "operationDescription", Value: e.desc})
		}
	default: // create createIndexes dropIndexes modify
		d = append(d, bson.E{Key: "ns", Value: ns}, bson.E{Key: "operationDescription", Value: e.desc})
		if e.before != nil {
			d = append(d, bson.E{Key: "stateBeforeChange", Value: e.before})
		}
	}
	if st.fullDocPre != "off" && (e.op == "update" || e.op == "replace" || e.op == "delete") {
		var pre any
		if e.images {
			pre = e.pre
		} else if st.fullDocPre == "required" {
			return nil, errf(47, "Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event: %v", makeToken(e.ts, kind))
		}
		d = append(d, bson.E{Key: "fullDocumentBeforeChange", Value: pre})
	}
	return d, nil
}

// postImageLocked is an update event's fullDocument: the current document
// (updateLookup; null when gone), or the post-image, which exists only when
// the collection had changeStreamPreAndPostImages enabled (whenAvailable:
// null otherwise; required: an error).
func (s *Server) postImageLocked(st *streamState, e *changeEvent) (any, error) {
	switch st.fullDoc {
	case "updateLookup":
		if c := s.collLocked(e.db, e.coll, false); c != nil {
			if ent, ok := c.byID[idKey(e.key)]; ok {
				return ent.doc, nil
			}
		}
		return nil, nil
	case "whenAvailable", "required":
		if e.images {
			return e.post, nil
		}
		if st.fullDoc == "required" {
			return nil, errf(47, "Change stream was configured to require a post-image for all update, delete and replace events, but the post-image was not found for event: %v", makeToken(e.ts, kindEvent))
		}
	}
	return nil, nil
}

// updateDescription is an update event's updateDescription;
// disambiguatedPaths shows with showExpandedEvents.
func (st *streamState) updateDescription(e *changeEvent) bson.D {
	updated := e.changes.Updated
	if updated == nil {
		updated = bson.D{}
	}
	removed := bson.A{}
	for _, r := range e.changes.Removed {
		removed = append(removed, r)
	}
	truncated := bson.A{}
	for _, t := range e.changes.Truncated {
		truncated = append(truncated, bson.D{{Key: "field", Value: t.Field}, {Key: "newSize", Value: t.NewSize}})
	}
	d := bson.D{
		{Key: "updatedFields", Value: updated},
		{Key: "removedFields", Value: removed},
		{Key: "truncatedArrays", Value: truncated},
	}
	if st.expanded {
		dis := e.changes.Disambiguated
		if dis == nil {
			dis = bson.D{}
		}
		d = append(d, bson.E{Key: "disambiguatedPaths", Value: dis})
	}
	return d
}

// splitEvent cuts an event larger than 16 MiB into fragments, as
// $changeStreamSplitLargeEvent does: each holds its own resume token,
// splitEvent {fragment, of} and as many of the event's top-level fields,
// in order, as fit.
func splitEvent(doc bson.D, ts bson.Timestamp, kind byte) ([]streamItem, error) {
	const overhead = 200 // _id, splitEvent and the document's own bytes
	var groups []bson.D
	cur, size := bson.D{}, overhead
	for _, e := range doc[1:] {
		n := docSize(bson.D{e}) - 5
		if n+overhead > maxBSONObjectSize {
			return nil, errf(10334, "change event too large to split: field '%s' is %d bytes", e.Key, n)
		}
		if len(cur) > 0 && size+n > maxBSONObjectSize {
			groups = append(groups, cur)
			cur, size = bson.D{}, overhead
		}
		cur = append(cur, e)
		size += n
	}
	groups = append(groups, cur)
	items := make([]streamItem, 0, len(groups))
	for i, g := range groups {
		frag := byte(i + 1)
		f := bson.D{
			{Key: "_id", Value: makeFragmentToken(ts, kind, frag)},
			{Key: "splitEvent", Value: bson.D{{Key: "fragment", Value: int32(i + 1)}, {Key: "of", Value: int32(len(groups))}}},
		}
		f = append(f, g...)
		items = append(items, streamItem{doc: f, pos: position{ts: ts, kind: kind, frag: frag}, size: docSize(f)})
	}
	return items, nil
}

func docSize(d bson.D) int {
	raw, err := bson.Marshal(d)
	if err != nil {
		return 0
	}
	return len(raw)
}
