package bsonvalue

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// At reads the value at a dotted path below v: through embedded documents
// by field name and through arrays by numeric index only (a field name
// applied to an array is treated as absent: there is no single value to
// copy).
func At(v bson.RawValue, path string) (bson.RawValue, bool) {
	rest := path
	for {
		head, tail, more := strings.Cut(rest, ".")
		next, ok := child(v, head)
		if !ok {
			return bson.RawValue{}, false
		}
		if !more {
			return next, true
		}
		v, rest = next, tail
	}
}

// child is the field name of a document or the index of an array.
func child(v bson.RawValue, name string) (bson.RawValue, bool) {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		doc, ok := v.DocumentOK()
		if !ok {
			return bson.RawValue{}, false
		}
		next, err := doc.LookupErr(name)
		return next, err == nil
	case bson.TypeArray:
		arr, ok := v.ArrayOK()
		if !ok {
			return bson.RawValue{}, false
		}
		n, err := strconv.ParseUint(name, 10, 31)
		if err != nil || (len(name) > 1 && name[0] == '0') {
			return bson.RawValue{}, false
		}
		next, err := arr.IndexErr(uint(n))
		return next, err == nil
	}
	return bson.RawValue{}, false
}
