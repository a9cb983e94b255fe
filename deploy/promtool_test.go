package deploy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

const promtoolMissing = "promtool is not installed: Debian's prometheus package ships it " +
	"(apt-get install prometheus; .ci/run installs it)"

// promtool returns promtool's path. Without it the test fails when env CI
// is set (CI must check the rules) and is skipped otherwise.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatal(promtoolMissing)
	}
	t.Skip(promtoolMissing)
	return ""
}

// TestAlertRulesWithPromtool checks the rules and runs their unit tests
// with the tool Prometheus itself ships.
func TestAlertRulesWithPromtool(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "alerts.yaml"},
		{"test", "rules", "alerts_test.yaml"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}
}

// TestDashboardQueriesWithPromtool parses every dashboard query with
// promtool, as recording rules of a scratch rule file.
func TestDashboardQueriesWithPromtool(t *testing.T) {
	bin := promtool(t)
	var rules []map[string]string
	for _, q := range dashboardQueries(t) {
		rules = append(rules, map[string]string{"record": fmt.Sprintf("dashboard:panel_%d_%s", q.Panel, q.RefID), "expr": q.Expr})
	}
	data, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-queries.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules (the dashboard's queries): %v\n%s", err, out)
	}
}

// ruleTests is the part of a promtool test file the coverage check reads.
type ruleTests struct {
	Tests []struct {
		Name        string `json:"name"`
		InputSeries []struct {
			Series string `json:"series"`
			Values string `json:"values"`
		} `json:"input_series"`
		AlertRuleTest []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// alertTests reads prometheus/alerts_test.yaml.
func alertTests(t *testing.T) ruleTests {
	t.Helper()
	data, err := os.ReadFile("prometheus/alerts_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file ruleTests
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestAlertUnitTestsCoverEveryAlert keeps prometheus/alerts_test.yaml
// complete: every alert fires in some case, and the healthy idle case,
// with a leader and a standby, checks every alert and expects none.
func TestAlertUnitTestsCoverEveryAlert(t *testing.T) {
	file := alertTests(t)
	fires := map[string]bool{}
	healthy := map[string]bool{}
	var leader, standby bool
	for _, g := range file.Tests {
		idle := strings.HasPrefix(g.Name, "healthy idle")
		for _, at := range g.AlertRuleTest {
			switch {
			case len(at.ExpAlerts) > 0 && idle:
				t.Errorf("the healthy idle case expects %s to fire", at.Alertname)
			case len(at.ExpAlerts) > 0:
				fires[at.Alertname] = true
			case idle:
				healthy[at.Alertname] = true
			}
		}
		if !idle {
			continue
		}
		for _, s := range g.InputSeries {
			if strings.HasPrefix(s.Series, "watcher_leader{") {
				leader = leader || strings.HasPrefix(s.Values, "1+0x")
				standby = standby || strings.HasPrefix(s.Values, "0+0x")
			}
		}
	}
	if !leader || !standby {
		t.Errorf("the healthy idle case needs a leader and a standby throughout (watcher_leader 1 and 0): leader %v, standby %v", leader, standby)
	}
	var names []string
	for _, r := range alertRules(t) {
		names = append(names, r.Alert)
		if !fires[r.Alert] {
			t.Errorf("no case in alerts_test.yaml fires %s", r.Alert)
		}
		if !healthy[r.Alert] {
			t.Errorf("the healthy idle case does not check that %s stays quiet", r.Alert)
		}
	}
	for a := range fires {
		if !slices.Contains(names, a) {
			t.Errorf("alerts_test.yaml expects %s, which alerts.yaml does not define", a)
		}
	}
}
