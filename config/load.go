package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// NoConfigFile is Loaded.Origin when no file was read.
const NoConfigFile = "no config file: defaults and environment"

// Source says where a configuration is read from.
type Source struct {
	// Path of the YAML file. "" means DefaultPath, which may be missing
	// (then only defaults and the environment apply); an explicitly given
	// path must exist.
	Path string
	// LookupEnv reads an environment variable; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
	// Environ lists the environment as "NAME=value" entries (os.Environ's
	// form); only the names are used, to report a WATCHER_ variable that is
	// a typo of a key's. nil: os.Environ() when LookupEnv is nil too, else
	// no such check.
	Environ []string
}

// Loaded is a configuration and the file it was read from.
type Loaded struct {
	Config Config
	// File is the absolute path of the file read; "" when there was none.
	File string
}

// Origin says where the configuration came from, for people: the file, or
// NoConfigFile.
func (l Loaded) Origin() string {
	if l.File == "" {
		return NoConfigFile
	}
	return "config file " + l.File
}

// Load reads the configuration: built-in defaults, then the YAML file, then
// environment overrides (WATCHER_ + key path upper-cased, "." → "_"; see
// EnvName), then mongo.uriFile.
//
// The lists sync.collections and sync.fields are overridden from the
// environment as YAML or JSON text, e.g.
// WATCHER_SYNC_COLLECTIONS='[{"name":"storyboards","recursive":true}]'.
//
// Every decode problem (unknown keys, wrong types, bad durations, a
// WATCHER_ variable one or two edits from a key's, an unreadable uriFile or
// credentialsFile) is collected: the error is then a Problems listing all of
// them. Load does not validate values; call LoadValid for both.
func (s Source) Load() (Loaded, error) {
	lookupEnv, environ := s.LookupEnv, s.Environ
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
		if environ == nil {
			environ = os.Environ()
		}
	}
	name := s.Path
	if name == "" {
		name = DefaultPath
	}
	data, err := os.ReadFile(name)
	file := name
	switch {
	case err == nil:
		if abs, err := filepath.Abs(name); err == nil {
			file = abs
		}
	case s.Path == "" && errors.Is(err, fs.ErrNotExist):
		data, file = nil, ""
	default:
		return Loaded{Config: Defaults()}, fmt.Errorf("config: %w", err)
	}
	cfg, err := load(name, data, lookupEnv, os.ReadFile)
	var p Problems
	if err != nil && !errors.As(err, &p) {
		return Loaded{Config: cfg, File: file}, err
	}
	checkEnvNames(environ, &p)
	return Loaded{Config: cfg, File: file}, p.err()
}

// LoadValid is Load followed by Validate: the error lists the problems of
// both, so a user sees everything wrong at once.
func (s Source) LoadValid() (Loaded, error) {
	l, err := s.Load()
	var loadProblems Problems
	if err != nil && !errors.As(err, &loadProblems) {
		return l, err
	}
	// A key that failed to decode keeps its default, so Validate does not
	// report it a second time.
	all := append(loadProblems, validate(l.Config)...)
	return l, all.err()
}

// Load is Source{Path: path, LookupEnv: lookupEnv}.Load() without the file
// name: lookupEnv nil is the process environment, whose WATCHER_ names are
// then checked for typos too.
func Load(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	l, err := Source{Path: path, LookupEnv: lookupEnv}.Load()
	return l.Config, err
}

// LoadValid is Load followed by Validate (see Source.LoadValid).
func LoadValid(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	l, err := Source{Path: path, LookupEnv: lookupEnv}.LoadValid()
	return l.Config, err
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

	if f := cfg.Firestore.CredentialsFile; f != "" {
		// The client reads it only when it connects: a wrong path would show
		// long after start-up.
		switch b, err := readFile(f); {
		case err != nil:
			p.addf("firestore.credentialsFile: %v", err)
		case len(strings.TrimSpace(string(b))) == 0:
			p.addf("firestore.credentialsFile: %s is empty", f)
		}
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
