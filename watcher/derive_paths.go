package watcher

import (
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// relate compares a changed path with a configured source path (dotted).
// comps, when non-nil, are the real components of key (from
// disambiguatedPaths: key is then not to be split at its dots). rest is the
// part of src below key when key is an ancestor.
func relate(key string, comps []string, src string) (relation, string) {
	if comps == nil {
		switch {
		case key == src:
			return same, ""
		case len(src) > len(key) && src[len(key)] == '.' && strings.HasPrefix(src, key):
			return ancestor, src[len(key)+1:]
		case len(key) > len(src) && key[len(src)] == '.' && strings.HasPrefix(key, src):
			return descendant, ""
		}
		return unrelated, ""
	}
	rest := src
	for i, c := range comps {
		head, tail, more := strings.Cut(rest, ".")
		if c != head {
			return unrelated, ""
		}
		last := i == len(comps)-1
		switch {
		case last && !more:
			return same, ""
		case last:
			return ancestor, tail
		case !more:
			return descendant, ""
		}
		rest = tail
	}
	return unrelated, "" // comps is empty: matches nothing
}

// parseDisambiguated reads updateDescription.disambiguatedPaths: for each
// ambiguous key, the array of its real path components (field names as
// strings, array indexes as integers).
func parseDisambiguated(raw bson.Raw) (map[string][]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	elems, err := raw.Elements()
	if err != nil {
		return nil, fmt.Errorf("%w: disambiguatedPaths: %w", ErrMalformedChange, err)
	}
	out := make(map[string][]string, len(elems))
	for _, el := range elems {
		arr, ok := el.Value().ArrayOK()
		if !ok {
			return nil, fmt.Errorf("%w: disambiguatedPaths.%s is %s, not an array", ErrMalformedChange, el.Key(), el.Value().Type)
		}
		vals, err := arr.Values()
		if err != nil {
			return nil, fmt.Errorf("%w: disambiguatedPaths.%s: %w", ErrMalformedChange, el.Key(), err)
		}
		comps := make([]string, 0, len(vals))
		for _, v := range vals {
			switch v.Type {
			case bson.TypeString:
				comps = append(comps, v.StringValue())
			case bson.TypeInt32:
				comps = append(comps, strconv.FormatInt(int64(v.Int32()), 10))
			case bson.TypeInt64:
				comps = append(comps, strconv.FormatInt(v.Int64(), 10))
			default:
				return nil, fmt.Errorf("%w: disambiguatedPaths.%s has a %s component", ErrMalformedChange, el.Key(), v.Type)
			}
		}
		if len(comps) == 0 {
			return nil, fmt.Errorf("%w: disambiguatedPaths.%s is empty", ErrMalformedChange, el.Key())
		}
		out[el.Key()] = comps
	}
	return out, nil
}

// truncatedFields reads the field paths of updateDescription.truncatedArrays
// ([{field, newSize}]).
func truncatedFields(raw bson.Raw) ([]string, error) {
	vals, err := bson.RawArray(raw).Values()
	if err != nil {
		return nil, fmt.Errorf("%w: truncatedArrays: %w", ErrMalformedChange, err)
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		doc, ok := v.DocumentOK()
		if !ok {
			return nil, fmt.Errorf("%w: truncatedArrays entry is %s, not a document", ErrMalformedChange, v.Type)
		}
		f, ok := doc.Lookup("field").StringValueOK()
		if !ok {
			return nil, fmt.Errorf("%w: truncatedArrays entry without a string field", ErrMalformedChange)
		}
		out = append(out, f)
	}
	return out, nil
}
