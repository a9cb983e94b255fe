package deploy

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/yaml"
)

// recorder is a Registerer that remembers what was registered.
type recorder struct {
	prometheus.Registerer
	cs []prometheus.Collector
}

func (r *recorder) Register(c prometheus.Collector) error {
	r.cs = append(r.cs, c)
	return r.Registerer.Register(c)
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// exported returns the names the watcher's real registry exports (built as
// the daemon builds it), from the collectors' descriptors, so label
// vectors without a series yet count too; histograms add their series.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	reg := &recorder{Registerer: prometheus.NewRegistry()}
	if err := metrics.RegisterRuntime(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.NewLeadership(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.NewFailures(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.NewReconcile(reg); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range reg.cs {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				names[m[1]] = true
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					names[m[1]+suf] = true // harmless for non-histograms: only watcher_ names are checked
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("no metric names found")
	}
	return names
}

var metricName = regexp.MustCompile(`\bwatcher_[a-z0-9_]+`)

// named returns the watcher_ metric names an expression mentions.
func named(expr string) []string { return metricName.FindAllString(expr, -1) }

func TestAlertsNameExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
				Expr  string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	have := exported(t)
	var alerts []string
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			ns := named(r.Expr)
			if len(ns) == 0 {
				t.Errorf("alert %s names no watcher metric: %q", r.Alert, r.Expr)
			}
			for _, n := range ns {
				if !have[n] {
					t.Errorf("alert %s: %s is not exported by the watcher", r.Alert, n)
				}
			}
		}
	}
	for _, want := range []string{"WatcherStreamDown", "WatcherLagHigh", "WatcherCheckpointStale", "WatcherNoLeader"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s (have %v)", want, alerts)
		}
	}
}

func TestDashboardNamesExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("grafana/watcher-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	have := exported(t)
	var all []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			ns := named(tg.Expr)
			if len(ns) == 0 {
				t.Errorf("panel %q: query names no watcher metric: %q", p.Title, tg.Expr)
			}
			for _, n := range ns {
				if !have[n] {
					t.Errorf("panel %q: %s is not exported by the watcher", p.Title, n)
				}
			}
			all = append(all, ns...)
		}
	}
	joined := strings.Join(all, " ")
	for _, want := range []string{"watcher_lag_seconds", "watcher_events_applied_total", "watcher_leader", "watcher_stream_up"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}
