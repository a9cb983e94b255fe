package metrics

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/projectwatcher/watcher/lease"
)

func TestLeadership(t *testing.T) {
	tests := []struct {
		name  string
		drive func(l *Leadership)
		want  string
	}{
		{
			name:  "initial: standby",
			drive: func(*Leadership) {},
			want:  "watcher_checkpoint_writes_refused_total 0\nwatcher_firestore_writes_refused_total 0\nwatcher_leader 0\nwatcher_lease_epoch 0\n",
		},
		{
			name:  "leader with epoch",
			drive: func(l *Leadership) { l.SetRole(lease.RoleLeader, 7) },
			want:  "watcher_checkpoint_writes_refused_total 0\nwatcher_firestore_writes_refused_total 0\nwatcher_leader 1\nwatcher_lease_epoch 7\n",
		},
		{
			name: "stepped down after refused writes",
			drive: func(l *Leadership) {
				l.SetRole(lease.RoleLeader, 3)
				l.CheckpointRefused()
				l.CheckpointRefused()
				l.SetRole(lease.RoleStandby, 0)
			},
			want: "watcher_checkpoint_writes_refused_total 2\nwatcher_firestore_writes_refused_total 0\nwatcher_leader 0\nwatcher_lease_epoch 0\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			l, err := NewLeadership(reg, nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.drive(l)
			got, err := gatherValues(reg)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	if _, err := NewLeadership(nil, nil); err == nil {
		t.Error("NewLeadership(nil, nil) succeeded")
	}
	reg := prometheus.NewRegistry()
	if _, err := NewLeadership(reg, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLeadership(reg, nil); err == nil {
		t.Error("registering twice succeeded")
	}
}

// gatherValues renders every unlabelled sample as "name value" lines,
// sorted by name.
func gatherValues(g prometheus.Gatherer) (string, error) {
	mfs, err := g.Gather()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			b.WriteString(mf.GetName() + " " + strconv.FormatFloat(v, 'g', -1, 64) + "\n")
		}
	}
	return b.String(), nil
}

// TestLeadershipCountsFirestoreWritesRefused: the counter reads the write
// fence's count.
func TestLeadershipCountsFirestoreWritesRefused(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	refused := int64(0)
	if _, err := NewLeadership(reg, func() int64 { return refused }); err != nil {
		t.Fatal(err)
	}
	refused = 3
	got, err := gatherValues(reg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "watcher_firestore_writes_refused_total 3\n") {
		t.Errorf("got\n%s\nwant watcher_firestore_writes_refused_total 3", got)
	}
}
