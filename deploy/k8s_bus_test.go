package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/config"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// workerManifests parses k8s/bus/ strictly: the workers' Deployment,
// Service and PodDisruptionBudget.
func workerManifests(t *testing.T) (*appsv1.Deployment, *corev1.Service, *policyv1.PodDisruptionBudget) {
	t.Helper()
	files, err := filepath.Glob("k8s/bus/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in k8s/bus/ (%v)", err)
	}
	d, svc, pdb := &appsv1.Deployment{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			var meta struct {
				Kind string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var obj any
			switch meta.Kind {
			case "Deployment":
				obj = d
			case "Service":
				obj = svc
			case "PodDisruptionBudget":
				obj = pdb
			default:
				t.Fatalf("%s: unexpected kind %q", f, meta.Kind)
			}
			if seen[meta.Kind] {
				t.Fatalf("two %s manifests in k8s/bus/", meta.Kind)
			}
			seen[meta.Kind] = true
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s (%s): %v", f, meta.Kind, err)
			}
		}
	}
	if len(seen) != 3 {
		t.Fatalf("k8s/bus/ holds %v, want a Deployment, a Service and a PodDisruptionBudget", seen)
	}
	return d, svc, pdb
}

// publishConfig loads the ConfigMap's config.yaml as the workers and the
// leader run it once scaled out: bus.mode publish (the README's one step).
func publishConfig(t *testing.T, cm *corev1.ConfigMap) config.Config {
	t.Helper()
	dir := t.TempDir()
	path, uriFile := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "mongo-uri")
	if err := os.WriteFile(path, []byte(cm.Data["config.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(uriFile, []byte("mongodb://u:p@db:27017/?replicaSet=rs0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"WATCHER_MONGO_URIFILE": uriFile, "WATCHER_BUS_MODE": "publish"}
	cfg, err := config.LoadValid(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the ConfigMap's config.yaml with bus.mode publish: %v", err)
	}
	return cfg
}

func TestWorkerDeployment(t *testing.T) {
	leader := manifests(t)
	ld := leader["Deployment"].(*appsv1.Deployment)
	cm := leader["ConfigMap"].(*corev1.ConfigMap)
	if off := deployedConfig(t, leader); off.Bus.Mode != config.BusOff {
		t.Errorf("the ConfigMap's bus.mode is %q: direct mode stays the deployed default", off.Bus.Mode)
	}
	cfg := publishConfig(t, cm)
	d, svc, pdb := workerManifests(t)
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	configVolume := ""
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == cm.Name {
			configVolume = v.Name
		}
	}
	configMounted := false
	for _, m := range c.VolumeMounts {
		configMounted = configMounted || m.Name == configVolume && len(c.Args) == 3 && filepath.Dir(c.Args[2]) == m.MountPath
	}
	grace := time.Duration(0)
	if pod.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	}
	labels := d.Spec.Template.Labels
	checks := []struct {
		name string
		ok   bool
	}{
		{"at least 2 replicas", d.Spec.Replicas != nil && *d.Spec.Replicas >= 2},
		{"runs watcher worker -c", len(c.Args) == 3 && c.Args[0] == "worker" && c.Args[1] == "-c"},
		{"reads the leader's ConfigMap", configVolume != "" && configMounted},
		{"the leader's image", c.Image == ld.Spec.Template.Spec.Containers[0].Image},
		{"liveness on /healthz", c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path == "/healthz"},
		{"readiness on /readyz", c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path == "/readyz"},
		{"probes use the configured port", probePort(c) == portOf(cfg.HTTP.Addr)},
		{"resource requests and limits", !c.Resources.Requests.Cpu().IsZero() && !c.Resources.Limits.Memory().IsZero()},
		{"non-root, read-only, no escalation", pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot &&
			c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem &&
			c.SecurityContext.AllowPrivilegeEscalation != nil && !*c.SecurityContext.AllowPrivilegeEscalation},
		{"grace period above shutdown.drainTimeout", grace > cfg.Shutdown.DrainTimeout},
		{"a service account of its own", pod.ServiceAccountName != "" && pod.ServiceAccountName != ld.Spec.Template.Spec.ServiceAccountName},
		{"the workers' Service selects them", selects(svc.Spec.Selector, labels)},
		{"the workers' PDB selects them", pdb.Spec.Selector != nil && selects(pdb.Spec.Selector.MatchLabels, labels)},
		{"the PDB lets a drain proceed", pdb.Spec.MaxUnavailable != nil && pdb.Spec.MaxUnavailable.IntValue() >= 1},
		{"the leader's Service and PDB do not select workers",
			!selects(leader["Service"].(*corev1.Service).Spec.Selector, labels) &&
				!selects(leader["PodDisruptionBudget"].(*policyv1.PodDisruptionBudget).Spec.Selector.MatchLabels, labels)},
		{"the workers' Service and PDB do not select the leader",
			!selects(svc.Spec.Selector, ld.Spec.Template.Labels) && !selects(pdb.Spec.Selector.MatchLabels, ld.Spec.Template.Labels)},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("worker deployment: %s: not so", ch.name)
		}
	}
}

// selects reports whether a non-empty selector matches labels.
func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
