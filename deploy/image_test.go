package deploy

import (
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// TestImagePinnedAndDocumented: the Deployment runs one named build (a
// rollout or a restart must not pull another), the README's image section
// names that same reference, and the drain fits in the grace period.
func TestImagePinnedAndDocumented(t *testing.T) {
	m := manifests(t)
	d := m["Deployment"].(*appsv1.Deployment)
	image := d.Spec.Template.Spec.Containers[0].Image
	name, tag := image, ""
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		name, tag = image[:i], image[i+1:]
	}
	if tag == "" || tag == "latest" || strings.Contains(name, "@") {
		t.Errorf("image %q: want a pinned tag, not :latest or none", image)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), image) {
		t.Errorf("README.md does not name the manifest's image %q", image)
	}
	grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	drain := deployedConfig(t, m).Shutdown.DrainTimeout
	if grace == nil || drain >= time.Duration(*grace)*time.Second {
		t.Errorf("shutdown.drainTimeout %s must be below terminationGracePeriodSeconds %v", drain, grace)
	}
}
