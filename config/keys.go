package config

import (
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "WATCHER_"

var (
	configType   = reflect.TypeFor[Config]()
	durationType = reflect.TypeFor[time.Duration]()
)

// leaf is one settable key of the configuration: a scalar or a list.
type leaf struct {
	key   string // dotted path, e.g. "resume.checkpointInterval"
	index []int  // field index path inside Config
	typ   reflect.Type
}

// leaves lists every key of Config, derived from the struct's mapstructure
// tags so that a new field can never be forgotten by the env binding.
func leaves() []leaf {
	var out []leaf
	var walk func(prefix string, t reflect.Type, index []int)
	walk = func(prefix string, t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			key := prefix + tagName(f)
			idx := append(append([]int(nil), index...), i)
			if isSection(f.Type) {
				walk(key+".", f.Type, idx)
				continue
			}
			out = append(out, leaf{key: key, index: idx, typ: f.Type})
		}
	}
	walk("", configType, nil)
	return out
}

// Keys returns every configuration key path (e.g. "mongo.uri"), in struct order.
func Keys() []string {
	ls := leaves()
	keys := make([]string, len(ls))
	for i, l := range ls {
		keys[i] = l.key
	}
	return keys
}

// EnvName is the environment variable overriding key:
// "resume.checkpointInterval" → "WATCHER_RESUME_CHECKPOINTINTERVAL".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// isSection reports whether t is a nested mapping of keys (not a leaf).
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t != durationType
}

func tagName(f reflect.StructField) string {
	if tag, ok := f.Tag.Lookup("mapstructure"); ok {
		if name, _, _ := strings.Cut(tag, ","); name != "" {
			return name
		}
	}
	return f.Name
}

// fieldByKey finds the struct field named key: exactly, or else ignoring
// case (exact is false then).
func fieldByKey(t reflect.Type, key string) (f reflect.StructField, exact, ok bool) {
	for i := range t.NumField() {
		if tagName(t.Field(i)) == key {
			return t.Field(i), true, true
		}
	}
	for i := range t.NumField() {
		if strings.EqualFold(tagName(t.Field(i)), key) {
			return t.Field(i), false, true
		}
	}
	return reflect.StructField{}, false, false
}

// nearestField returns the key of t's field that key is a typo of
// (compared ignoring case), if any.
func nearestField(t reflect.Type, key string) (string, bool) {
	lower := make([]string, t.NumField())
	for i := range t.NumField() {
		lower[i] = strings.ToLower(tagName(t.Field(i)))
	}
	near, ok := nearest(strings.ToLower(key), lower)
	if !ok {
		return "", false
	}
	return tagName(t.Field(slices.Index(lower, near))), true
}

// checkKeys reports every key of raw (a parsed YAML value meant for type t)
// that t does not have, with its full path. Key names are case-sensitive:
// a key differing only in case is reported with a hint.
func checkKeys(path string, raw any, t reflect.Type, p *Problems) {
	switch {
	case isSection(t):
		m, ok := asMap(path, raw, p)
		if !ok {
			return
		}
		for _, k := range sortedKeys(m) {
			f, exact, found := fieldByKey(t, k)
			sub := join(path, k)
			switch {
			case !found:
				if near, ok := nearestField(t, k); ok {
					p.addf("%s: unknown key (did you mean %q?)", sub, join(path, near))
				} else {
					p.addf("%s: unknown key", sub)
				}
				continue
			case !exact:
				p.addf("%s: unknown key (did you mean %q?)", sub, join(path, tagName(f)))
				continue
			}
			checkKeys(sub, m[k], f.Type, p)
		}
	case t.Kind() == reflect.Slice && isSection(t.Elem()):
		list, ok := raw.([]any)
		if !ok {
			return // the decoder reports the wrong type
		}
		for i, e := range list {
			checkKeys(indexPath(path, i), e, t.Elem(), p)
		}
	}
}

// asMap returns raw as a string-keyed map. nil (an empty YAML section) is an
// empty map; anything else that is not a mapping is a problem.
func asMap(path string, raw any, p *Problems) (map[string]any, bool) {
	switch m := raw.(type) {
	case nil:
		return nil, true
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			s, ok := k.(string)
			if !ok {
				p.addf("%s: key %v is not a string", orRoot(path), k)
				continue
			}
			out[s] = v
		}
		return out, true
	default:
		p.addf("%s: expected a mapping, got %s", orRoot(path), describe(raw))
		return nil, false
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func orRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}
