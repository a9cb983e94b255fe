package deploy

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var metricName = regexp.MustCompile(`\bwatcher_[a-z0-9_]+`)

// named returns the watcher_ metric names an expression mentions.
func named(expr string) []string { return metricName.FindAllString(expr, -1) }

// rule is one alerting rule of prometheus/alerts.yaml.
type rule struct {
	Alert string `json:"alert"`
	Expr  string `json:"expr"`
}

// alertRules reads the alerting rules of prometheus/alerts.yaml.
func alertRules(t *testing.T) []rule {
	t.Helper()
	data, err := os.ReadFile("prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	var rules []rule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatal("prometheus/alerts.yaml has no rules")
	}
	return rules
}

// TestRulesAndDashboardNameExportedMetrics checks every watcher_ name of the
// alerts and the dashboard against what the running daemon serves (in
// direct mode, and both sides of the event bus).
func TestRulesAndDashboardNameExportedMetrics(t *testing.T) {
	have := exported(t)
	for name := range exportedBus(t) { // bus.mode publish: the leader's and a worker's
		have[name] = true
	}
	t.Run("alerts", func(t *testing.T) { checkAlertNames(t, have) })
	t.Run("dashboard", func(t *testing.T) { checkDashboardNames(t, have) })
	t.Run("alert unit tests", func(t *testing.T) { checkTestSeriesNames(t, have) })
	t.Run("README", func(t *testing.T) { checkReadmeNames(t, have) })
}

// checkReadmeNames: every watcher_ family the daemon serves is named in
// README.md, where operators look for what a metric means.
func checkReadmeNames(t *testing.T, have map[string]bool) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, n := range named(string(readme)) {
		documented[n] = true
	}
	for n := range have {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
		if strings.HasPrefix(n, "watcher_") && !documented[n] && !documented[base] {
			t.Errorf("the daemon serves %s and README.md does not name it", n)
		}
	}
}

// checkTestSeriesNames keeps the input series of the rules' unit tests to
// what the daemon exports.
func checkTestSeriesNames(t *testing.T, have map[string]bool) {
	missing := map[string][]string{} // name → the test groups using it
	for _, g := range alertTests(t).Tests {
		for _, s := range g.InputSeries {
			for _, n := range named(s.Series) {
				if !have[n] && !slices.Contains(missing[n], g.Name) {
					missing[n] = append(missing[n], g.Name)
				}
			}
		}
	}
	for n, groups := range missing {
		t.Errorf("alerts_test.yaml: %s is not exported by the watcher (series of %q)", n, groups)
	}
}

func checkAlertNames(t *testing.T, have map[string]bool) {
	var alerts []string
	for _, r := range alertRules(t) {
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
	for _, want := range []string{"WatcherStreamDown", "WatcherFirestoreDown", "WatcherLagHigh", "WatcherCheckpointStale", "WatcherNoLeader"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s (have %v)", want, alerts)
		}
	}
}

// query is one panel target of grafana/watcher-dashboard.json.
type query struct {
	Panel int
	Title string
	RefID string
	Expr  string
}

// dashboardQueries reads every panel's queries; a panel without one is an
// error.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	data, err := os.ReadFile("grafana/watcher-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	var qs []query
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			qs = append(qs, query{Panel: p.ID, Title: p.Title, RefID: tg.RefID, Expr: tg.Expr})
		}
	}
	return qs
}

func checkDashboardNames(t *testing.T, have map[string]bool) {
	var all []string
	for _, q := range dashboardQueries(t) {
		ns := named(q.Expr)
		if len(ns) == 0 {
			t.Errorf("panel %q: query names no watcher metric: %q", q.Title, q.Expr)
		}
		for _, n := range ns {
			if !have[n] {
				t.Errorf("panel %q: %s is not exported by the watcher", q.Title, n)
			}
		}
		all = append(all, ns...)
	}
	for _, want := range []string{"watcher_lag_seconds", "watcher_events_applied_total", "watcher_leader", "watcher_stream_up",
		"watcher_firestore_up", "watcher_firestore_errors_total"} {
		if !slices.Contains(all, want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}
