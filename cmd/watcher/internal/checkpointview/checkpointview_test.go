package checkpointview

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestWrite(t *testing.T) {
	token, err := bson.Marshal(bson.D{{Key: "_data", Value: "82ABCDEF"}})
	if err != nil {
		t.Fatal(err)
	}
	saved := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	now := saved.Add(90 * time.Second)
	tests := []struct {
		name string
		cp   event.Checkpoint
		ok   bool
		want []string
	}{
		{"none stored", event.Checkpoint{}, false, []string{`no checkpoint stored for "s"`, "resume.startAt (now)"}},
		{"stored", event.Checkpoint{Token: token, ClusterTime: bson.Timestamp{T: 1714557600, I: 3}, SavedAt: saved}, true, []string{
			"name:        s\n",
			`token:       {"_data": "82ABCDEF"}`,
			"clusterTime: {T: 1714557600, I: 3} (2024-05-01T10:00:00Z)",
			"savedAt:     2024-05-01T10:00:00Z",
			"age:         1m30s",
		}},
		{"stored without times", event.Checkpoint{Token: token}, true, []string{"clusterTime: (none)", "savedAt:     (unknown)", "age:         (unknown)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, "s", tt.cp, tt.ok, now, "now"); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, buf.String())
				}
			}
		})
	}
}
