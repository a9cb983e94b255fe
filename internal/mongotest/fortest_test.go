package mongotest

import (
	"strings"
	"testing"
)

func TestForTestUsesEnvOrStartsServer(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		wantSrv bool
	}{
		{"env set: real replica set", "mongodb://db.example:27017/?replicaSet=rs0", false},
		{"env unset: in-process server", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvURI, tc.env)
			uri, srv := ForTest(t)
			if (srv != nil) != tc.wantSrv {
				t.Fatalf("srv = %v, want a server: %v", srv, tc.wantSrv)
			}
			if tc.wantSrv && uri != srv.URI() {
				t.Errorf("uri = %q, want the server's %q", uri, srv.URI())
			}
			if !tc.wantSrv && uri != tc.env {
				t.Errorf("uri = %q, want %q", uri, tc.env)
			}
		})
	}
}

func TestDBNameIsUniqueAndValid(t *testing.T) {
	a, b := DBName(t), DBName(t)
	if a == b {
		t.Errorf("two calls gave the same name %q", a)
	}
	for _, n := range []string{a, b} {
		if len(n) > 63 || strings.ContainsAny(n, `/\. "$*<>:|?`) {
			t.Errorf("invalid database name %q", n)
		}
	}
}
