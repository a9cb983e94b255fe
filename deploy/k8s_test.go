package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/projectwatcher/watcher/config"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// manifests parses every file of k8s/ strictly (unknown fields are errors)
// into the Kubernetes Go type its kind names.
func manifests(t *testing.T) map[string]any {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in k8s/ (%v)", err)
	}
	out := map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var meta struct {
				Kind string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s #%d: %v", f, i, err)
			}
			var obj any
			switch meta.Kind {
			case "Deployment":
				obj = &appsv1.Deployment{}
			case "ConfigMap":
				obj = &corev1.ConfigMap{}
			case "Service":
				obj = &corev1.Service{}
			case "PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			default:
				t.Fatalf("%s #%d: unexpected kind %q", f, i, meta.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s #%d (%s): %v", f, i, meta.Kind, err)
			}
			if _, dup := out[meta.Kind]; dup {
				t.Fatalf("two %s manifests", meta.Kind)
			}
			out[meta.Kind] = obj
		}
	}
	for _, k := range []string{"Deployment", "ConfigMap", "Service", "PodDisruptionBudget"} {
		if out[k] == nil {
			t.Errorf("no %s manifest", k)
		}
	}
	return out
}

func TestDeployment(t *testing.T) {
	m := manifests(t)
	d, ok := m["Deployment"].(*appsv1.Deployment)
	if !ok {
		t.Fatal("no Deployment")
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm
	}
	cfg := deployedConfig(t, m)

	checks := []struct {
		name string
		ok   bool
	}{
		{"2 replicas", d.Spec.Replicas != nil && *d.Spec.Replicas == 2},
		{"liveness on /healthz", c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path == "/healthz"},
		{"readiness on /readyz", c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path == "/readyz"},
		{"resource requests and limits", !c.Resources.Requests.Cpu().IsZero() && !c.Resources.Requests.Memory().IsZero() &&
			!c.Resources.Limits.Cpu().IsZero() && !c.Resources.Limits.Memory().IsZero()},
		{"pod runs as non-root", pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot &&
			pod.SecurityContext.RunAsUser != nil && *pod.SecurityContext.RunAsUser != 0},
		{"read-only root filesystem", c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem},
		{"no privilege escalation", c.SecurityContext != nil && c.SecurityContext.AllowPrivilegeEscalation != nil && !*c.SecurityContext.AllowPrivilegeEscalation},
		{"all capabilities dropped", c.SecurityContext != nil && c.SecurityContext.Capabilities != nil && slices.Contains(c.SecurityContext.Capabilities.Drop, "ALL")},
		{"probes use the configured port", probePort(c) == portOf(cfg.HTTP.Addr)},
		{"leases on", cfg.Lease.Enabled},
		{"mongo store (fencing needs it)", cfg.Resume.Store == "mongo"},
		{"no URI in the ConfigMap", cfg.Mongo.URI == ""},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("deployment: %s: not so", ch.name)
		}
	}

	// mongo.uriFile is a file of a Secret volume, mounted read-only.
	dir, file := filepath.Split(cfg.Mongo.URIFile)
	vm, ok := mounts[strings.TrimSuffix(dir, "/")]
	if cfg.Mongo.URIFile == "" || !ok {
		t.Fatalf("mongo.uriFile %q is not under a volume mount (%v)", cfg.Mongo.URIFile, mounts)
	}
	v := volumes[vm.Name]
	if v.Secret == nil || !vm.ReadOnly {
		t.Errorf("mongo.uriFile's volume %q: secret %v, read-only %v; want a read-only Secret", vm.Name, v.Secret, vm.ReadOnly)
	} else if len(v.Secret.Items) > 0 && !slices.ContainsFunc(v.Secret.Items, func(k corev1.KeyToPath) bool { return k.Path == file }) {
		t.Errorf("secret volume items %v do not provide %q", v.Secret.Items, file)
	}
	// The config file is the ConfigMap, mounted where the args point.
	cmVol := ""
	for _, vol := range pod.Volumes {
		if vol.ConfigMap != nil && vol.ConfigMap.Name == m["ConfigMap"].(*corev1.ConfigMap).Name {
			cmVol = vol.Name
		}
	}
	argPath := ""
	for i, a := range c.Args {
		if (a == "-c" || a == "--config") && i+1 < len(c.Args) {
			argPath = c.Args[i+1]
		}
	}
	if cm, ok := mounts[filepath.Dir(argPath)]; !ok || cm.Name != cmVol || cmVol == "" {
		t.Errorf("config %q is not read from the ConfigMap volume", argPath)
	}
}

func TestPDBAndService(t *testing.T) {
	m := manifests(t)
	d := m["Deployment"].(*appsv1.Deployment)
	labels := d.Spec.Template.Labels
	pdb := m["PodDisruptionBudget"].(*policyv1.PodDisruptionBudget)
	svc := m["Service"].(*corev1.Service)
	matches := func(sel map[string]string) bool {
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
	if pdb.Spec.Selector == nil || !matches(pdb.Spec.Selector.MatchLabels) {
		t.Errorf("PDB selector %v does not select the pods %v", pdb.Spec.Selector, labels)
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 {
		t.Errorf("PDB minAvailable %v, want >= 1", pdb.Spec.MinAvailable)
	}
	if !matches(svc.Spec.Selector) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, labels)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].TargetPort.String() != c.Ports[0].Name && svc.Spec.Ports[0].TargetPort.IntValue() != int(c.Ports[0].ContainerPort) {
		t.Errorf("Service ports %v do not reach the container's %v", svc.Spec.Ports, c.Ports)
	}
}

// deployedConfig validates the ConfigMap's config.yaml with the watcher's
// own loader (LoadValid; a temporary URI file stands in for the Secret) and
// returns it with mongo.uriFile and mongo.uri as written in the ConfigMap.
func deployedConfig(t *testing.T, m map[string]any) config.Config {
	t.Helper()
	cm := m["ConfigMap"].(*corev1.ConfigMap)
	text, ok := cm.Data["config.yaml"]
	if !ok {
		t.Fatal("ConfigMap has no config.yaml")
	}
	var raw struct {
		Mongo struct {
			URI     string `json:"uri"`
			URIFile string `json:"uriFile"`
		} `json:"mongo"`
	}
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	uriFile := filepath.Join(dir, "mongo-uri")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(uriFile, []byte("mongodb://u:p@db:27017/?replicaSet=rs0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"WATCHER_MONGO_URIFILE": uriFile}
	cfg, err := config.LoadValid(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the ConfigMap's config.yaml: %v", err)
	}
	cfg.Mongo.URIFile, cfg.Mongo.URI = raw.Mongo.URIFile, raw.Mongo.URI
	return cfg
}

func probePort(c corev1.Container) string {
	p := c.ReadinessProbe.HTTPGet.Port
	for _, cp := range c.Ports {
		if p.String() == cp.Name || p.IntValue() == int(cp.ContainerPort) {
			return strconv.Itoa(int(cp.ContainerPort))
		}
	}
	return "none"
}

func portOf(addr string) string {
	return addr[strings.LastIndex(addr, ":")+1:]
}
