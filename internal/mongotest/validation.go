package mongotest

import (
	"strings"

	"github.com/projectwatcher/watcher/internal/mongotest/mquery"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Document validation: a collection's validator (a query filter, set by
// create or collMod), with validationLevel strict (every write), moderate
// (not updates of documents that were invalid already) or off, and
// validationAction error (the write fails with 121 DocumentValidationFailure
// and errInfo) or warn (the write goes through). A write command's
// bypassDocumentValidation skips it.

// validationOptions are the option names create and collMod accept.
var validationOptions = map[string]bool{"validator": true, "validationLevel": true, "validationAction": true}

func checkValidationOption(key string, v any) error {
	switch key {
	case "validator":
		d, ok := v.(bson.D)
		if !ok {
			return errf(14, "'validator' must be a document")
		}
		if _, err := mquery.ParseFilter(d); err != nil {
			return err
		}
	case "validationLevel":
		if l, _ := v.(string); l != "off" && l != "strict" && l != "moderate" {
			return errf(2, "Enumeration value '%v' for field 'validationLevel' is not a valid value.", v)
		}
	case "validationAction":
		if a, _ := v.(string); a != "error" && a != "warn" {
			return errf(2, "Enumeration value '%v' for field 'validationAction' is not a valid value.", v)
		}
	}
	return nil
}

// validateLocked checks doc (replacing old, nil for an insert) against the
// collection's validator.
func (s *Server) validateLocked(c *collection, doc, old bson.D) error {
	vv, _ := lookupKey(c.options, "validator")
	validator, _ := vv.(bson.D)
	if len(validator) == 0 || s.bypassValidation {
		return nil
	}
	level, _ := lookupKey(c.options, "validationLevel")
	action, _ := lookupKey(c.options, "validationAction")
	if level == "off" || action == "warn" {
		return nil
	}
	ok, err := mquery.Match(doc, validator)
	if err != nil || ok {
		return err
	}
	if level == "moderate" && old != nil {
		if wasValid, err := mquery.Match(old, validator); err == nil && !wasValid {
			return nil
		}
	}
	return &cmdError{code: 121, codeName: "DocumentValidationFailure", msg: "Document failed validation",
		extra: bson.D{{Key: "errInfo", Value: bson.D{
			{Key: "failingDocumentId", Value: docID(doc)},
			{Key: "details", Value: validationDetails(doc, validator)},
		}}}}
}

// validationDetails explains which clauses of the validator doc fails, in
// the shape of MongoDB's errInfo.details (operatorName, specifiedAs,
// reason; $and with clausesNotSatisfied for several clauses).
func validationDetails(doc, validator bson.D) bson.D {
	var failed bson.A
	for i, clause := range validator {
		one := bson.D{clause}
		if ok, _ := mquery.Match(doc, one); ok {
			continue
		}
		op := "$eq"
		if d, ok := clause.Value.(bson.D); ok && len(d) > 0 && strings.HasPrefix(d[0].Key, "$") {
			op = d[0].Key
		}
		if strings.HasPrefix(clause.Key, "$") {
			op = clause.Key
		}
		failed = append(failed, bson.D{
			{Key: "index", Value: int32(i)},
			{Key: "details", Value: bson.D{{Key: "operatorName", Value: op}, {Key: "specifiedAs", Value: one}, {Key: "reason", Value: "expression did not match"}}},
		})
	}
	if len(failed) == 1 {
		d, _ := lookupKey(failed[0].(bson.D), "details")
		return d.(bson.D)
	}
	return bson.D{{Key: "operatorName", Value: "$and"}, {Key: "clausesNotSatisfied", Value: failed}}
}

// bypassingLocked sets whether the command x bypasses document validation;
// the returned function restores the default (the caller holds s.mu for
// the whole command).
func (s *Server) bypassingLocked(x *cmdCtx) func() {
	v, _ := x.get("bypassDocumentValidation")
	s.bypassValidation = asBool(v)
	return func() { s.bypassValidation = false }
}
