package crashpoint

import "testing"

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    spec
		ok      bool
		wantErr bool
	}{
		{in: "", ok: false},
		{in: "  ", ok: false},
		{in: "after-apply-before-checkpoint", want: spec{"after-apply-before-checkpoint", 1}, ok: true},
		{in: "mid-cleanup:3", want: spec{"mid-cleanup", 3}, ok: true},
		{in: " mid-cleanup:12 ", want: spec{"mid-cleanup", 12}, ok: true},
		{in: ":3", wantErr: true},
		{in: "mid-cleanup:0", wantErr: true},
		{in: "mid-cleanup:-1", wantErr: true},
		{in: "mid-cleanup:x", wantErr: true},
		{in: "mid-cleanup:", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok, err := parseSpec(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if ok != tt.ok || got != tt.want {
				t.Fatalf("parseSpec(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
