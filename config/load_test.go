package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// env returns a lookupEnv over the given variables only.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadCase is one Load of a config file (content yaml) and an environment.
type loadCase struct {
	name string
	yaml string // "" : no file content (an empty file)
	env  []string
	want func(*Config) // applied to Defaults(); nil when problems are expected
	// problems: each must appear (as a substring) in exactly one line,
	// and the count of lines must match.
	problems []string
}

func TestLoad(t *testing.T) {
	for _, tc := range slices.Concat(loadCases, uriFileCases(t)) {
		t.Run(tc.name, func(t *testing.T) { checkLoad(t, tc) })
	}
}

// checkLoad loads tc.yaml with tc.env and checks the config against
// tc.want, or the problems against tc.problems.
func checkLoad(t *testing.T, tc loadCase) {
	path := writeFile(t, "config.yaml", tc.yaml)
	got, err := Load(path, env(tc.env...))
	if tc.want != nil {
		if err != nil {
			t.Fatalf("Load: unexpected error:\n%v", err)
		}
		want := Defaults()
		tc.want(&want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Load:\n got %+v\nwant %+v", got, want)
		}
		return
	}
	var problems Problems
	if !errors.As(err, &problems) {
		t.Fatalf("Load error = %v (%T), want Problems", err, err)
	}
	assertProblems(t, problems, tc.problems)
}

// uriFileCases are the cases of mongo.uriFile, on files written for t.
func uriFileCases(t *testing.T) []loadCase {
	t.Helper()
	uriFile := writeFile(t, "uri", "\n  mongodb://u:secret@db:27017/?replicaSet=rs0 \n")
	emptyFile := writeFile(t, "empty", " \n")
	return []loadCase{
		{
			name: "uriFile wins over uri, trimmed",
			yaml: "mongo:\n  uri: mongodb://ignored\n  uriFile: " + uriFile + "\n",
			want: func(c *Config) {
				c.Mongo.URIFile = uriFile
				c.Mongo.URI = "mongodb://u:secret@db:27017/?replicaSet=rs0"
			},
		},
		{
			name: "uriFile from env",
			env:  []string{"WATCHER_MONGO_URIFILE", uriFile},
			want: func(c *Config) {
				c.Mongo.URIFile = uriFile
				c.Mongo.URI = "mongodb://u:secret@db:27017/?replicaSet=rs0"
			},
		},
		{
			name:     "uriFile missing or empty",
			yaml:     "mongo:\n  uriFile: " + filepath.Join(t.TempDir(), "nope") + "\n",
			problems: []string{"mongo.uriFile: open "},
		},
		{
			name:     "uriFile a directory",
			env:      []string{"WATCHER_MONGO_URIFILE", t.TempDir()},
			problems: []string{"mongo.uriFile: read "},
		},
		{
			name:     "uriFile empty",
			env:      []string{"WATCHER_MONGO_URIFILE", emptyFile},
			problems: []string{"mongo.uriFile: " + emptyFile + " is empty"},
		},
	}
}

// loadCases are TestLoad's cases that need no file but the config file.
var loadCases = []loadCase{
	{
		name: "empty file gives defaults",
		want: func(*Config) {},
	},
	{
		name: "file values",
		yaml: `
mongo:
  uri: "mongodb://other:27017"
sync:
  workers: 3
  mode: archive
  collections:
    - name: a
      group: true
    - name: b
      recursive: true
  fields:
    - source: meta.title
      target: title
      collections: [a]
resume:
  checkpointInterval: 250ms
reconcile:
  interval: 0
lease:
  enabled: true
`,
		want: func(c *Config) {
			c.Mongo.URI = "mongodb://other:27017"
			c.Sync.Workers = 3
			c.Sync.Mode = "archive"
			c.Sync.Collections = []Collection{{Name: "a", Group: true}, {Name: "b", Recursive: true}}
			c.Sync.Fields = []Field{{Source: "meta.title", Target: "title", Collections: []string{"a"}}}
			c.Resume.CheckpointInterval = 250 * time.Millisecond
			c.Lease.Enabled = true
		},
	},
	{
		name: "env overrides keys absent from the file",
		yaml: "mongo:\n  database: x\n",
		env: []string{
			"WATCHER_MONGO_URI", "mongodb://env:1",
			"WATCHER_SYNC_WORKERS", "3",
			"WATCHER_RESUME_CHECKPOINTINTERVAL", "5s",
			"WATCHER_SAFETY_MAXDOCSPEREVENT", "0",
			"WATCHER_SAFETY_DRYRUN", "true",
			"WATCHER_LOG_LEVEL", "debug",
		},
		want: func(c *Config) {
			c.Mongo.Database = "x"
			c.Mongo.URI = "mongodb://env:1"
			c.Sync.Workers = 3
			c.Resume.CheckpointInterval = 5 * time.Second
			c.Safety.MaxDocsPerEvent = 0
			c.Safety.DryRun = true
			c.Log.Level = "debug"
		},
	},
	{
		name: "env wins over the file",
		yaml: "sync:\n  workers: 2\nhttp:\n  addr: ':1'\n",
		env:  []string{"WATCHER_SYNC_WORKERS", "5"},
		want: func(c *Config) { c.Sync.Workers = 5; c.HTTP.Addr = ":1" },
	},
	{
		name: "env lists as JSON and YAML",
		env: []string{
			"WATCHER_SYNC_COLLECTIONS", `[{"name":"x","group":true},{"name":"y"}]`,
			"WATCHER_SYNC_FIELDS", "- source: a\n  target: b\n  collections: [x]\n",
		},
		want: func(c *Config) {
			c.Sync.Collections = []Collection{{Name: "x", Group: true}, {Name: "y"}}
			c.Sync.Fields = []Field{{Source: "a", Target: "b", Collections: []string{"x"}}}
		},
	},
	{
		name: "empty env list means no fields",
		env:  []string{"WATCHER_SYNC_FIELDS", ""},
		want: func(c *Config) { c.Sync.Fields = []Field{} },
	},
	{
		name: "every unknown key with its path",
		yaml: `
mongo:
  url: x
  URI: y
bogus: 1
sync:
  wrokers: 2
  collections:
    - name: a
      recursve: true
  fields:
    - source: a
      target: b
      colections: []
`,
		problems: []string{
			`mongo.url: unknown key (did you mean "mongo.uri"?)`,
			`mongo.URI: unknown key (did you mean "mongo.uri"?)`,
			"bogus: unknown key",
			`sync.collections[0].recursve: unknown key (did you mean "sync.collections[0].recursive"?)`,
			`sync.fields[0].colections: unknown key (did you mean "sync.fields[0].collections"?)`,
			`sync.wrokers: unknown key (did you mean "sync.workers"?)`,
		},
	},
	{
		name: "bad durations are all listed",
		yaml: `
resume:
  checkpointInterval: 1x
retry:
  initialBackoff: "fast"
  maxBackoff: 30
health:
  stallTimeout: true
`,
		problems: []string{
			`resume.checkpointInterval: not a Go duration`,
			`retry.initialBackoff: not a Go duration`,
			`retry.maxBackoff: expected a Go duration string`,
			`health.stallTimeout: expected a Go duration string`,
		},
	},
	{
		name: "wrong types, env and file together",
		yaml: `
sync:
  workers: many
  collections: storyboards
  fields:
    - source: [a]
      target: b
mongo: 5
safety:
  dryRun: maybe
`,
		env: []string{
			"WATCHER_RETRY_MAXATTEMPTS", "lots",
			"WATCHER_LEASE_TTL", "soon",
			"WATCHER_SYNC_COLLECTIONS", `[{"name": "a", "nam": "b"}]`,
		},
		problems: []string{
			`sync.workers: expected an integer, got "many"`,
			// the env list replaces the file's (wrong) one
			`WATCHER_SYNC_COLLECTIONS[0].nam: unknown key`,
			`sync.fields[0].source: expected a string, got a list`,
			`mongo: expected a mapping, got number 5`,
			`safety.dryRun: expected true or false, got "maybe"`,
			`WATCHER_RETRY_MAXATTEMPTS: expected an integer, got "lots"`,
			`WATCHER_LEASE_TTL: not a Go duration`,
		},
	},
	{
		name:     "env list that is not YAML",
		env:      []string{"WATCHER_SYNC_COLLECTIONS", `[{"name": `},
		problems: []string{"WATCHER_SYNC_COLLECTIONS: not a YAML or JSON list"},
	},
	{
		name:     "YAML syntax error",
		yaml:     "mongo:\n  uri: [\n",
		problems: []string{"config.yaml: yaml: "},
	},
	{
		name:     "top level is not a mapping",
		yaml:     "- a\n- b\n",
		problems: []string{"(top level): expected a mapping, got a list"},
	},
	{
		name:     "duplicate keys",
		yaml:     "mongo:\n  uri: a\n  uri: b\n",
		problems: []string{`already defined`},
	},
}

// assertProblems checks that every wanted substring matches exactly one
// problem and that there is no other problem.
func assertProblems(t *testing.T, got Problems, want []string) {
	t.Helper()
	for _, w := range want {
		n := 0
		for _, g := range got {
			if strings.Contains(g, w) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("problem %q matched %d lines, want 1; problems:\n%v", w, n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(got), len(want), got)
	}
}

// TestEveryKeyHasAnEnvOverride sets each key's variable (derived from the
// struct) and checks that exactly that field changed.
func TestEveryKeyHasAnEnvOverride(t *testing.T) {
	for _, l := range leaves() {
		t.Run(l.key, func(t *testing.T) {
			var value string
			var want any
			switch {
			case l.typ == durationType:
				value, want = "17s", 17*time.Second
			case l.typ.Kind() == reflect.String:
				value, want = "v-"+l.key, "v-"+l.key
			case l.typ.Kind() == reflect.Int:
				value, want = "12345", 12345
			case l.typ.Kind() == reflect.Bool:
				value, want = "true", !reflect.ValueOf(Defaults()).FieldByIndex(l.index).Bool()
				value = map[bool]string{true: "true", false: "false"}[want.(bool)]
			case l.typ == reflect.TypeFor[[]Collection]():
				value, want = `[{"name":"zz"}]`, []Collection{{Name: "zz"}}
			case l.typ == reflect.TypeFor[[]Field]():
				value, want = `[{"source":"s","target":"t"}]`, []Field{{Source: "s", Target: "t"}}
			default:
				t.Fatalf("no test value for type %s: extend this test", l.typ)
			}
			switch l.key {
			case "mongo.uriFile":
				value = writeFile(t, "uri", "mongodb://from-file")
				want = value
			case "firestore.credentialsFile":
				value = writeFile(t, "credentials.json", "{}")
				want = value
			}
			got, err := Load(writeFile(t, "c.yaml", ""), env(EnvName(l.key), value))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			field := reflect.ValueOf(got).FieldByIndex(l.index).Interface()
			if !reflect.DeepEqual(field, want) {
				t.Errorf("%s=%q: %s = %#v, want %#v", EnvName(l.key), value, l.key, field, want)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	tests := map[string]string{
		"mongo.uri":                 "WATCHER_MONGO_URI",
		"sync.workers":              "WATCHER_SYNC_WORKERS",
		"resume.checkpointInterval": "WATCHER_RESUME_CHECKPOINTINTERVAL",
		"safety.maxDocsPerEvent":    "WATCHER_SAFETY_MAXDOCSPEREVENT",
	}
	keys := strings.Join(Keys(), " ")
	for key, want := range tests {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
		if !strings.Contains(" "+keys+" ", " "+key+" ") {
			t.Errorf("Keys() lacks %q: %s", key, keys)
		}
	}
}

func TestLoadValidListsLoadAndValidateProblems(t *testing.T) {
	path := writeFile(t, "c.yaml", "sync:\n  workers: 0\n  mode: wipe\n  typo: 1\nretry:\n  maxBackoff: nope\n")
	_, err := LoadValid(path, env())
	var problems Problems
	if !errors.As(err, &problems) {
		t.Fatalf("err = %v, want Problems", err)
	}
	assertProblems(t, problems, []string{
		"sync.typo: unknown key",
		"retry.maxBackoff: not a Go duration",
		"sync.workers: must be >= 1",
		"sync.mode: must be one of delete | archive",
	})
}
