package config

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// validateCase changes the defaults and names the problems Validate must
// then find.
type validateCase struct {
	name   string
	mutate func(*Config)
	want   []string // one substring per expected problem; none: valid
}

func TestValidate(t *testing.T) {
	for _, tc := range validateCases {
		t.Run(tc.name, func(t *testing.T) { checkValidate(t, tc) })
	}
}

// checkValidate validates the defaults changed by tc.mutate.
func checkValidate(t *testing.T, tc validateCase) {
	cfg := Defaults()
	tc.mutate(&cfg)
	err := cfg.Validate()
	if len(tc.want) == 0 {
		if err != nil {
			t.Fatalf("Validate: unexpected problems:\n%v", err)
		}
		return
	}
	var problems Problems
	if !errors.As(err, &problems) {
		t.Fatalf("Validate = %v, want Problems", err)
	}
	assertProblems(t, problems, tc.want)
}

var validateCases = []validateCase{
	{"defaults", func(*Config) {}, nil},
	{"uriFile excuses an empty uri", func(c *Config) { c.Mongo.URI = ""; c.Mongo.URIFile = "/run/secrets/uri" }, nil},
	{"startAt RFC 3339", func(c *Config) { c.Resume.StartAt = "2024-05-01T10:00:00+02:00" }, nil},
	{"file store", func(c *Config) { c.Resume.Store = "file"; c.Resume.Database = ""; c.Resume.Collection = "" }, nil},
	{"lease disabled ignores ttl", func(c *Config) { c.Lease.TTL = 0 }, nil},
	{"maxDocsPerEvent 0 is no limit", func(c *Config) { c.Safety.MaxDocsPerEvent = 0 }, nil},
	{"field restricted to a configured collection", func(c *Config) { c.Sync.Fields[0].Collections = []string{"aiAnalyses"} }, nil},
	{"http addr with host", func(c *Config) { c.HTTP.Addr = "127.0.0.1:9090" }, nil},
	{"equal targets in different collections", func(c *Config) {
		c.Sync.Fields = []Field{
			{Source: "name", Target: "projectName", Collections: []string{"storyboards"}},
			{Source: "title", Target: "projectName", Collections: []string{"aiAnalyses", "generatedMedia"}},
		}
	}, nil},
	{"sibling targets", func(c *Config) {
		c.Sync.Fields = append(c.Sync.Fields, Field{Source: "slug", Target: "project.slug"}, Field{Source: "owner", Target: "project.owner"})
	}, nil},
	{"nested id field", func(c *Config) { c.Sync.IDField = "meta.projectId"; c.Sync.Fields[0].Target = "meta.projectName" }, nil},
	{"createTimeSkew 0 is exact", func(c *Config) { c.Sync.CreateTimeSkew = 0 }, nil},
	{"bus publish with its defaults", func(c *Config) { c.Bus.Mode = "publish" }, nil},
	{"bus off ignores empty names", func(c *Config) { c.Bus.Topic, c.Bus.Subscription, c.Bus.DeadLetterTopic = "", "", "" }, nil},
	{"bus maxDeliveryAttempts 100", func(c *Config) { c.Bus.MaxDeliveryAttempts = 100 }, nil},

	{"empty mongo uri", func(c *Config) { c.Mongo.URI = " " }, []string{"mongo.uri: empty"}},
	{"mongo uri scheme", func(c *Config) { c.Mongo.URI = "http://u:pw@x" }, []string{"mongo.uri: must start with mongodb://"}},
	{"mongo names", func(c *Config) { c.Mongo.Database = ""; c.Mongo.Collection = "" }, []string{"mongo.database: empty", "mongo.collection: empty"}},
	{"firestore", func(c *Config) { c.Firestore.ProjectID = ""; c.Firestore.DatabaseID = "" }, []string{"firestore.projectId: empty", "firestore.databaseId: empty"}},
	{"resume store", func(c *Config) { c.Resume.Store = "redis" }, []string{"resume.store: must be one of mongo | file"}},
	{"resume mongo names", func(c *Config) { c.Resume.Database = ""; c.Resume.Collection = "" }, []string{"resume.database: empty", "resume.collection: empty"}},
	{"resume file path", func(c *Config) { c.Resume.Store = "file"; c.Resume.Path = "" }, []string{"resume.path: empty"}},
	{"resume name", func(c *Config) { c.Resume.Name = "" }, []string{"resume.name: empty"}},
	{"startAt", func(c *Config) { c.Resume.StartAt = "yesterday" }, []string{"resume.startAt: must be \"now\" or an RFC 3339"}},
	{"checkpointInterval", func(c *Config) { c.Resume.CheckpointInterval = 0 }, []string{"resume.checkpointInterval: must be > 0"}},
	{"onHistoryLost", func(c *Config) { c.Resume.OnHistoryLost = "ignore" }, []string{"resume.onHistoryLost: must be one of fail | reconcile"}},
	{"sync mode", func(c *Config) { c.Sync.Mode = "purge" }, []string{"sync.mode: must be one of delete | archive"}},
	{"sync idField", func(c *Config) { c.Sync.IDField = "" }, []string{"sync.idField: empty"}},
	{"workers", func(c *Config) { c.Sync.Workers = 0 }, []string{"sync.workers: must be >= 1"}},
	{"no collections", func(c *Config) { c.Sync.Collections = nil; c.Sync.Fields = nil }, []string{"sync.collections: empty"}},
	{"empty collection name", func(c *Config) { c.Sync.Collections[1].Name = "" }, []string{"sync.collections[1].name: empty"}},
	{"duplicate collection", func(c *Config) { c.Sync.Collections[2].Name = "storyboards" }, []string{`sync.collections[2].name: duplicate collection "storyboards" (also sync.collections[0])`}},
	{"collection path", func(c *Config) { c.Sync.Collections[0].Name = "a/b" }, []string{`sync.collections[0].name: "a/b": a collection id, not a path`}},
	{"collection ids Firestore refuses", func(c *Config) {
		c.Sync.Collections[1].Name = ".."
		c.Sync.Collections[2].Name = "__meta__"
		c.Sync.Fields[0].Collections = []string{"storyboards"}
	}, []string{`sync.collections[1].name: "..": not a Firestore collection id`, `sync.collections[2].name: "__meta__": ids of the form __name__ are reserved`}},
	{"id field not a field path", func(c *Config) { c.Sync.IDField = "meta..projectId" }, []string{`sync.idField: "meta..projectId" is not a field path`}},
	{"target not a field path", func(c *Config) { c.Sync.Fields[0].Target = "project..name" }, []string{`sync.fields[0].target: "project..name" is not a field path`}},
	{"target inside another", func(c *Config) {
		c.Sync.Fields = append(c.Sync.Fields, Field{Source: "slug", Target: "projectName.slug", Collections: []string{"aiAnalyses"}})
	}, []string{`sync.fields[1].target: "projectName.slug" collides with sync.fields[0].target "projectName" (equal, or one inside the other) in aiAnalyses`}},
	{"target around another", func(c *Config) {
		c.Sync.Fields = []Field{{Source: "slug", Target: "project.slug"}, {Source: "p", Target: "project"}}
	}, []string{`sync.fields[1].target: "project" collides with sync.fields[0].target "project.slug"`}},
	{"collisions with two fields", func(c *Config) {
		c.Sync.Fields = []Field{
			{Source: "a", Target: "x", Collections: []string{"storyboards"}},
			{Source: "b", Target: "x", Collections: []string{"aiAnalyses"}},
			{Source: "c", Target: "x.y"},
		}
	}, []string{`sync.fields[2].target: "x.y" collides with sync.fields[0].target "x" (equal, or one inside the other) in storyboards`,
		`sync.fields[2].target: "x.y" collides with sync.fields[1].target "x" (equal, or one inside the other) in aiAnalyses`}},
	{"target inside the id field", func(c *Config) { c.Sync.Fields[0].Target = "projectId.name" }, []string{`sync.fields[0].target: "projectId.name" would overwrite sync.idField "projectId"`}},
	{"target around the id field", func(c *Config) { c.Sync.IDField = "meta.projectId"; c.Sync.Fields[0].Target = "meta" }, []string{`sync.fields[0].target: "meta" would overwrite sync.idField "meta.projectId"`}},
	{"collection listed twice in a field", func(c *Config) { c.Sync.Fields[0].Collections = []string{"aiAnalyses", "aiAnalyses"} }, []string{`sync.fields[0].collections[1]: "aiAnalyses" is listed twice (also sync.fields[0].collections[0])`}},
	{"field with an empty source is not checked further", func(c *Config) {
		c.Sync.Fields = append(c.Sync.Fields, Field{Source: "", Target: "projectName"})
	}, []string{"sync.fields[1].source: empty"}},
	{"field names an unknown collection", func(c *Config) { c.Sync.Fields[0].Collections = []string{"aiAnalyses", "nope"} }, []string{`sync.fields[0].collections[1]: "nope" is not a configured collection`}},
	{"empty source and target", func(c *Config) { c.Sync.Fields[0].Source = ""; c.Sync.Fields[0].Target = "" }, []string{"sync.fields[0].source: empty", "sync.fields[0].target: empty"}},
	{"duplicate target", func(c *Config) {
		c.Sync.Fields = append(c.Sync.Fields, Field{Source: "title", Target: "projectName"})
	}, []string{`sync.fields[1].target: "projectName" collides with sync.fields[0].target "projectName" (equal, or one inside the other) in storyboards, aiAnalyses, generatedMedia`}},
	{"target is the id field", func(c *Config) { c.Sync.Fields[0].Target = "projectId" }, []string{`sync.fields[0].target: "projectId" would overwrite sync.idField "projectId"`}},
	{"initialBackoff", func(c *Config) { c.Retry.InitialBackoff = 0 }, []string{"retry.initialBackoff: must be > 0"}},
	{"maxBackoff below initial", func(c *Config) { c.Retry.MaxBackoff = 100 * time.Millisecond }, []string{"retry.maxBackoff: must be >= retry.initialBackoff (200ms), got 100ms"}},
	{"maxAttempts", func(c *Config) { c.Retry.MaxAttempts = 0 }, []string{"retry.maxAttempts: must be >= 1"}},
	{"deadLetter names", func(c *Config) { c.DeadLetter.Database = ""; c.DeadLetter.Collection = "" }, []string{"deadLetter.database: empty", "deadLetter.collection: empty"}},
	{"maxDocsPerEvent", func(c *Config) { c.Safety.MaxDocsPerEvent = -1 }, []string{"safety.maxDocsPerEvent: must be >= 0"}},
	{"reconcile interval", func(c *Config) { c.Reconcile.Interval = -time.Second }, []string{"reconcile.interval: must be >= 0"}},
	{"lease ttl", func(c *Config) { c.Lease.Enabled = true; c.Lease.TTL = 0 }, []string{"lease.ttl: must be > 0 when lease.enabled"}},
	{"stallTimeout", func(c *Config) { c.Health.StallTimeout = 0 }, []string{"health.stallTimeout: must be > 0"}},
	{"startupTimeout", func(c *Config) { c.Mongo.StartupTimeout = 0 }, []string{"mongo.startupTimeout: must be > 0, got 0s"}},
	{"callTimeout", func(c *Config) { c.Firestore.CallTimeout = -time.Second }, []string{"firestore.callTimeout: must be > 0, got -1s"}},
	{"createTimeSkew", func(c *Config) { c.Sync.CreateTimeSkew = -time.Millisecond }, []string{"sync.createTimeSkew: must be >= 0, got -1ms"}},
	{"drainTimeout", func(c *Config) { c.Shutdown.DrainTimeout = 0 }, []string{"shutdown.drainTimeout: must be > 0"}},
	{"bus mode", func(c *Config) { c.Bus.Mode = "subscribe" }, []string{`bus.mode: must be one of off | publish, got "subscribe"`}},
	{"bus names needed to publish", func(c *Config) {
		c.Bus.Mode = "publish"
		c.Bus.Topic, c.Bus.Subscription, c.Bus.DeadLetterTopic = "", " ", ""
	}, []string{`bus.topic: empty (bus.mode is "publish")`, "bus.subscription: empty", "bus.deadLetterTopic: empty"}},
	{"bus names Pub/Sub refuses", func(c *Config) {
		c.Bus.Topic, c.Bus.Subscription, c.Bus.DeadLetterTopic = "1events", "ab", "google-dead"
	}, []string{`bus.topic: "1events" is not a Pub/Sub name`, `bus.subscription: "ab" is not a Pub/Sub name`, `bus.deadLetterTopic: "google-dead" is not a Pub/Sub name`}},
	{"bus dead letters on the event topic", func(c *Config) { c.Bus.DeadLetterTopic = c.Bus.Topic }, []string{"bus.deadLetterTopic: \"project-events\" is bus.topic"}},
	{"bus maxDeliveryAttempts below 5", func(c *Config) { c.Bus.MaxDeliveryAttempts = 4 }, []string{"bus.maxDeliveryAttempts: must be from 5 to 100 (Pub/Sub's limits), got 4"}},
	{"bus maxDeliveryAttempts above 100", func(c *Config) { c.Bus.MaxDeliveryAttempts = 101 }, []string{"bus.maxDeliveryAttempts: must be from 5 to 100"}},
	{"http addr without port", func(c *Config) { c.HTTP.Addr = "localhost" }, []string{"http.addr: must be host:port"}},
	{"http addr bad port", func(c *Config) { c.HTTP.Addr = ":99999" }, []string{"http.addr: port must be a number"}},
	{"log level", func(c *Config) { c.Log.Level = "verbose" }, []string{"log.level: must be one of trace | debug | info | warn | error"}},
	{"log format", func(c *Config) { c.Log.Format = "text" }, []string{"log.format: must be one of json | console"}},
	{"every problem at once", func(c *Config) {
		c.Sync.Workers = -1
		c.Log.Format = "xml"
		c.Resume.CheckpointInterval = -time.Second
		c.Firestore.ProjectID = ""
	}, []string{"sync.workers", "log.format", "resume.checkpointInterval", "firestore.projectId"}},
}

func TestSyncValidateIsTheSectionsPart(t *testing.T) {
	s := Defaults().Sync
	if err := s.Validate(); err != nil {
		t.Fatalf("default sync section: %v", err)
	}
	s.Collections[0].Name = "a/b"
	s.Workers = 0
	var problems Problems
	if !errors.As(s.Validate(), &problems) {
		t.Fatalf("Validate = %v, want Problems", s.Validate())
	}
	assertProblems(t, problems, []string{`sync.collections[0].name: "a/b"`, "sync.workers: must be >= 1"})
}

func TestCopies(t *testing.T) {
	s := Defaults().Sync
	s.Fields = []Field{
		{Source: "name", Target: "projectName"},
		{Source: "meta.owner", Target: "project.owner", Collections: []string{"aiAnalyses"}},
	}
	want := []Copy{
		{Source: "name", Collection: "storyboards", Target: []string{"projectName"}},
		{Source: "name", Collection: "aiAnalyses", Target: []string{"projectName"}},
		{Source: "name", Collection: "generatedMedia", Target: []string{"projectName"}},
		{Source: "meta.owner", Collection: "aiAnalyses", Target: []string{"project", "owner"}},
	}
	if got := s.Copies(); !reflect.DeepEqual(got, want) {
		t.Errorf("Copies() =\n%v\nwant\n%v", got, want)
	}
}

func TestSplitFieldPath(t *testing.T) {
	for in, want := range map[string][]string{
		"a": {"a"}, "a.b.c": {"a", "b", "c"}, "": nil, "a..b": nil, ".a": nil, "a.": nil,
	} {
		if got := SplitFieldPath(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitFieldPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBusProjectID(t *testing.T) {
	c := Defaults()
	if got := c.BusProjectID(); got != c.Firestore.ProjectID {
		t.Errorf("empty bus.projectId: BusProjectID() = %q, want firestore.projectId %q", got, c.Firestore.ProjectID)
	}
	c.Bus.ProjectID = "events-project"
	if got := c.BusProjectID(); got != "events-project" {
		t.Errorf("BusProjectID() = %q, want bus.projectId", got)
	}
}

func TestProblemsError(t *testing.T) {
	p := Problems{"a: x", "b: y"}
	if got, want := p.Error(), "a: x\nb: y"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if Problems(nil).err() != nil {
		t.Error("no problems must be a nil error")
	}
}
