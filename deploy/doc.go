// Package deploy holds no code: its tests check the deployment files next
// to it (Kubernetes manifests in k8s/, Prometheus alerts in prometheus/, the
// Grafana dashboard in grafana/).
package deploy
