package daemon

import (
	"errors"
	"testing"

	"github.com/projectwatcher/watcher/event"
)

// TestErrorRecorderNamesTheProject: /status lastError names the event's
// kind and project, and says so when the change had no valid project id.
func TestErrorRecorderNamesTheProject(t *testing.T) {
	for _, tt := range []struct{ project, want string }{
		{"p1", "ProjectUpdated p1: boom"},
		{"", "ProjectUpdated (no valid project id): boom"},
	} {
		s := &state{}
		errorRecorder{s}.EventApplied(event.ProjectUpdated, tt.project, 0, s.lastErrAt, event.Report{}, errors.New("boom"))
		if err, _ := s.lastError(); err == nil || err.Error() != tt.want {
			t.Errorf("project %q: lastError %v, want %q", tt.project, err, tt.want)
		}
	}
	s := &state{}
	errorRecorder{s}.EventApplied(event.ProjectUpdated, "p1", 0, s.lastErrAt, event.Report{}, nil)
	if err, _ := s.lastError(); err != nil {
		t.Errorf("an applied event recorded %v", err)
	}
}
