package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Load reads the configuration: built-in defaults, then the YAML file, then
// environment overrides (WATCHER_ + key path upper-cased, "." → "_"; see
// EnvName), then mongo.uriFile. lookupEnv is os.LookupEnv when nil.
//
// path "" means DefaultPath, which may be missing (defaults and environment
// only). An explicitly given path must exist.
//
// The lists sync.collections and sync.fields are overridden from the
// environment as YAML or JSON text, e.g.
// WATCHER_SYNC_COLLECTIONS='[{"name":"storyboards","recursive":true}]'.
//
// Every decode problem (unknown keys, wrong types, bad durations, an
// unreadable uriFile) is collected: the error is then a Problems listing all
// of them. Load does not validate values; call Validate (or LoadValid).
func Load(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	name := path
	if name == "" {
		name = DefaultPath
	}
	data, err := os.ReadFile(name)
	switch {
	case err == nil:
	case path == "" && errors.Is(err, fs.ErrNotExist):
		data = nil
	default:
		return Defaults(), fmt.Errorf("config: %w", err)
	}
	return load(name, data, lookupEnv, os.ReadFile)
}

// LoadValid is Load followed by Validate: the error lists the problems of
// both, so a user sees everything wrong at once.
func LoadValid(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	cfg, err := Load(path, lookupEnv)
	var loadProblems Problems
	if err != nil && !errors.As(err, &loadProblems) {
		return cfg, err
	}
	// A key that failed to decode keeps its default, so Validate does not
	// report it a second time.
	all := append(loadProblems, validate(cfg)...)
	return cfg, all.err()
}

// load does the work of Load on the file's content (nil: no file).
func load(name string, data []byte, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (Config, error) {
	cfg := Defaults()
	var p Problems
	v := viper.New()

	if len(strings.TrimSpace(string(data))) > 0 {
		var tree any
		if err := yaml.Unmarshal(data, &tree); err != nil {
			p.addf("%s: %v", name, err)
			return cfg, p
		}
		if m, ok := asMap("", tree, &p); ok && m != nil {
			checkKeys("", m, configType, &p)
			// viper lower-cases the map in place: check the keys first.
			if err := v.MergeConfigMap(m); err != nil {
				p.addf("%s: %v", name, err)
			}
		}
	}

	root := reflect.ValueOf(&cfg).Elem()
	for _, l := range leaves() {
		where := l.key
		if s, ok := lookupEnv(EnvName(l.key)); ok {
			where = EnvName(l.key) // problems name the variable to fix
			val, ok := envValue(where, s, l.typ, &p)
			if !ok {
				continue
			}
			v.Set(l.key, val)
		}
		raw := v.Get(l.key)
		if raw == nil {
			continue // not set anywhere: keep the default
		}
		val, ok := decode(where, raw, l.typ, &p)
		if !ok {
			continue // keep the default; the problem is reported
		}
		root.FieldByIndex(l.index).Set(val)
	}

	if cfg.Mongo.URIFile != "" {
		b, err := readFile(cfg.Mongo.URIFile)
		switch uri := strings.TrimSpace(string(b)); {
		case err != nil:
			p.addf("mongo.uriFile: %v", err)
		case uri == "":
			p.addf("mongo.uriFile: %s is empty", cfg.Mongo.URIFile)
		default:
			cfg.Mongo.URI = uri
		}
	}
	return cfg, p.err()
}

// envValue turns an environment string into a raw value for a key of type t:
// lists are parsed as YAML (JSON is YAML too) and their keys checked;
// scalars stay strings, decoded like file values.
func envValue(where, s string, t reflect.Type, p *Problems) (any, bool) {
	if t.Kind() != reflect.Slice {
		return s, true
	}
	var val any
	if err := yaml.Unmarshal([]byte(s), &val); err != nil {
		p.addf("%s: not a YAML or JSON list: %v", where, err)
		return nil, false
	}
	if val == nil {
		return []any{}, true
	}
	checkKeys(where, val, t, p)
	return val, true
}
