package mquery

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// formatValue renders a value roughly the way the server prints values in
// error messages (relaxed extended JSON).
func formatValue(v any) string {
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
	if err != nil {
		return "?"
	}
	s := string(b)
	s = strings.TrimPrefix(s, `{"v":`)
	return strings.TrimSuffix(s, "}")
}

// formatElem renders {key: value}.
func formatElem(key string, v any) string {
	return "{" + key + ": " + formatValue(v) + "}"
}
