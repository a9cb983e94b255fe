package mongotest

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// genericFields are the fields any command may carry besides its own.
var genericFields = map[string]bool{
	"$db": true, "lsid": true, "txnNumber": true, "$clusterTime": true, "$readPreference": true,
	"writeConcern": true, "readConcern": true, "comment": true, "maxTimeMS": true,
	"apiVersion": true, "apiStrict": true, "apiDeprecationErrors": true, "autocommit": true,
	"startTransaction": true, "$audit": true, "$client": true,
}

// cmdCollMod changes a collection's options: changeStreamPreAndPostImages,
// and an index's hidden or expireAfterSeconds. It records a modify event
// (shown with showExpandedEvents) whose operationDescription holds the
// change and stateBeforeChange the options before it.
func (s *Server) cmdCollMod(x *cmdCtx) (bson.D, error) {
	coll, err := x.collName()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.collLocked(x.db, coll, false)
	if c == nil {
		return nil, errf(26, "ns does not exist: %s.%s", x.db, coll)
	}
	before := bson.D{{Key: "collectionOptions", Value: append(bson.D{{Key: "uuid", Value: c.uuid}}, c.options...)}}
	desc := bson.D{}
	reply := bson.D{}
	for _, e := range x.cmd[1:] {
		if genericFields[e.Key] {
			continue
		}
		switch e.Key {
		case "changeStreamPreAndPostImages":
			if err := checkImagesOption(e.Value); err != nil {
				return nil, err
			}
			c.options = setKey(c.options, e.Key, e.Value)
			desc = append(desc, e)
		case "index":
			d, err := s.collModIndexLocked(c, e.Value)
			if err != nil {
				return nil, err
			}
			desc = append(desc, bson.E{Key: "index", Value: d})
		case "validator", "validationLevel", "validationAction":
			if err := checkValidationOption(e.Key, e.Value); err != nil {
				return nil, err
			}
			c.options = setKey(c.options, e.Key, e.Value)
			desc = append(desc, e)
		case "viewOn", "pipeline", "expireAfterSeconds", "timeseries":
			return nil, errf(2, "mongotest does not support option '%s' of collMod", e.Key)
		default:
			return nil, errf(40415, "BSON field 'collMod.%s' is an unknown field.", e.Key)
		}
	}
	s.recordCollLocked(c, &changeEvent{op: "modify", desc: desc, before: before})
	return reply, nil
}

// collModIndexLocked applies collMod's {index: {name | keyPattern,
// hidden, expireAfterSeconds}} and returns the change.
func (s *Server) collModIndexLocked(c *collection, v any) (bson.D, error) {
	spec, ok := v.(bson.D)
	if !ok {
		return nil, errf(14, "BSON field 'collMod.index' is the wrong type, expected an object")
	}
	var ix *index
	for _, have := range c.indexes {
		nv, _ := lookupKey(spec, "name")
		kv, _ := lookupKey(spec, "keyPattern")
		kp, _ := kv.(bson.D)
		if (nv != nil && nv == have.name) || (kp != nil && sameDoc(kp, have.key)) {
			ix = have
		}
	}
	if ix == nil {
		return nil, errf(27, "cannot find index %v for ns %s.%s", spec, c.db, c.name)
	}
	out := bson.D{{Key: "name", Value: ix.name}}
	for _, e := range spec {
		switch e.Key {
		case "name", "keyPattern":
		case "hidden", "expireAfterSeconds":
			ix.spec = setKey(ix.spec, e.Key, e.Value)
			out = append(out, e)
		default:
			return nil, errf(2, "mongotest does not support '%s' of collMod.index", e.Key)
		}
	}
	return out, nil
}

// setKey returns d with key set to v (replaced in place, or appended).
func setKey(d bson.D, key string, v any) bson.D {
	out := make(bson.D, 0, len(d)+1)
	found := false
	for _, e := range d {
		if e.Key == key {
			e.Value, found = v, true
		}
		out = append(out, e)
	}
	if !found {
		out = append(out, bson.E{Key: key, Value: v})
	}
	return out
}
