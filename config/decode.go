package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// decode converts raw (a parsed YAML value, an environment string, or a
// viper-merged value) into a value of type t. Every problem is added to p
// with its path; ok is false when the value is unusable.
func decode(path string, raw any, t reflect.Type, p *Problems) (v reflect.Value, ok bool) {
	switch {
	case t == durationType:
		d, err := toDuration(raw)
		if err != nil {
			p.addf("%s: %v", path, err)
			return reflect.Value{}, false
		}
		return reflect.ValueOf(d), true
	case isSection(t):
		return decodeStruct(path, raw, t, p)
	}
	switch t.Kind() {
	case reflect.String:
		switch s := raw.(type) {
		case string:
			return reflect.ValueOf(s).Convert(t), true
		case time.Time: // an unquoted timestamp, should a parser produce one
			return reflect.ValueOf(s.Format(time.RFC3339Nano)).Convert(t), true
		}
		p.addf("%s: expected a string, got %s (quote it)", path, describe(raw))
	case reflect.Bool:
		switch b := raw.(type) {
		case bool:
			return reflect.ValueOf(b), true
		case string:
			if parsed, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
				return reflect.ValueOf(parsed), true
			}
		}
		p.addf("%s: expected true or false, got %s", path, describe(raw))
	case reflect.Int:
		if n, ok := toInt(raw); ok {
			return reflect.ValueOf(n), true
		}
		p.addf("%s: expected an integer, got %s", path, describe(raw))
	case reflect.Slice:
		return decodeSlice(path, raw, t, p)
	default:
		p.addf("%s: unsupported config type %s", path, t)
	}
	return reflect.Value{}, false
}

func decodeSlice(path string, raw any, t reflect.Type, p *Problems) (reflect.Value, bool) {
	if raw == nil {
		return reflect.MakeSlice(t, 0, 0), true
	}
	rv := reflect.ValueOf(raw)
	if rv.Kind() != reflect.Slice {
		p.addf("%s: expected a list, got %s", path, describe(raw))
		return reflect.Value{}, false
	}
	out := reflect.MakeSlice(t, 0, rv.Len())
	ok := true
	for i := range rv.Len() {
		e, eok := decode(indexPath(path, i), rv.Index(i).Interface(), t.Elem(), p)
		if !eok {
			ok = false
			continue
		}
		out = reflect.Append(out, e)
	}
	return out, ok
}

// decodeStruct fills a struct (an element of a list) from a mapping. Keys
// are matched ignoring case because viper lower-cases them; unknown keys were
// already reported by checkKeys and are ignored here.
func decodeStruct(path string, raw any, t reflect.Type, p *Problems) (reflect.Value, bool) {
	m, ok := asMap(path, raw, p)
	if !ok {
		return reflect.Value{}, false
	}
	out := reflect.New(t).Elem()
	for _, k := range sortedKeys(m) {
		f, _, found := fieldByKey(t, k)
		if !found || m[k] == nil {
			continue
		}
		v, vok := decode(join(path, tagName(f)), m[k], f.Type, p)
		if !vok {
			ok = false
			continue
		}
		out.FieldByIndex(f.Index).Set(v)
	}
	return out, ok
}

// toDuration accepts a Go duration string ("1s", "250ms"), 0, or an already
// typed time.Duration. Other numbers are refused: "30" is ambiguous.
func toDuration(raw any) (time.Duration, error) {
	switch v := raw.(type) {
	case time.Duration:
		return v, nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("not a Go duration (like \"1s\" or \"250ms\"): %w", err)
		}
		return d, nil
	}
	if n, ok := toInt(raw); ok && n == 0 {
		return 0, nil
	}
	return 0, fmt.Errorf("expected a Go duration string (like \"1s\" or \"250ms\"), got %s", describe(raw))
}

func toInt(raw any) (int, bool) {
	switch v := raw.(type) {
	case int:
		return v, true
	case int64:
		if v >= math.MinInt && v <= math.MaxInt {
			return int(v), true
		}
	case uint64:
		if v <= math.MaxInt {
			return int(v), true
		}
	case float64:
		if v == math.Trunc(v) && v >= math.MinInt && v < math.MaxInt {
			return int(v), true
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n, true
		}
	}
	return 0, false
}

// describe names a parsed value for a problem message.
func describe(raw any) string {
	switch v := raw.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(v)
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case int, int64, uint64, float64:
		return fmt.Sprintf("number %v", v)
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	default:
		return fmt.Sprintf("%T", raw)
	}
}
