package config

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"WORKERS", "WORKRS", 1},   // deletion
		{"WORKERS", "WORKERSS", 1}, // insertion
		{"WORKERS", "WORKEES", 1},  // substitution
		{"WORKERS", "WOKRERS", 1},  // swap of neighbours
		{"MODE", "MDOEX", 2},
		{"URI", "URL", 1},
		{"abc", "xyz", 3},
		{"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b, 10); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a, 10); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
		if got := editDistance(tt.a, tt.b, 1); got != min(tt.want, 1) {
			t.Errorf("editDistance(%q, %q, limit 1) = %d, want %d", tt.a, tt.b, got, min(tt.want, 1))
		}
	}
}

func TestNearest(t *testing.T) {
	candidates := []string{"workers", "mode", "idField", "bus", "uri"}
	for name, want := range map[string]string{
		"workrs": "workers", "wrkrs": "workers", "mdoe": "mode", "idFeld": "idField", "url": "uri", "bsu": "bus",
		"colour": "", "x": "", "bogus": "", "mdeo": "",
	} {
		got, ok := nearest(name, candidates)
		if got != want || ok != (want != "") {
			t.Errorf("nearest(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}
