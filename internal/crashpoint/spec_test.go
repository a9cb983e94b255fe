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
		{in: "after-apply-before-checkpoint", want: spec{"after-apply-before-checkpoint", 1, false}, ok: true},
		{in: "mid-cleanup:3", want: spec{"mid-cleanup", 3, false}, ok: true},
		{in: " mid-cleanup:12 ", want: spec{"mid-cleanup", 12, false}, ok: true},
		{in: "before-write:2:stop", want: spec{"before-write", 2, true}, ok: true},
		{in: "before-write:stop", want: spec{"before-write", 1, true}, ok: true},
		{in: "mid-cleanup:4:kill", want: spec{"mid-cleanup", 4, false}, ok: true},
		{in: ":3", wantErr: true},
		{in: "before-write:2:pause", wantErr: true},
		{in: "before-write:1:2", wantErr: true},
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
