package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/projectwatcher/watcher/lease"
)

// Leadership exposes leader election:
//
//	watcher_leader                            gauge 0|1 (1 without leases: a lone instance leads)
//	watcher_lease_epoch                       gauge, the fencing epoch of the current term (0: standby or no leases)
//	watcher_checkpoint_writes_refused_total   counter, checkpoint writes refused by fencing (a newer leader exists)
//	watcher_firestore_writes_refused_total    counter, Firestore write RPCs not sent because this instance's lease term had ended
type Leadership struct {
	leader  prometheus.Gauge
	epoch   prometheus.Gauge
	refused prometheus.Counter
}

// NewLeadership creates the collectors and registers them on reg.
// firestoreRefused counts the Firestore writes the write fence refused
// (fsfence.Fence.Refused; nil: none, no fence).
func NewLeadership(reg prometheus.Registerer, firestoreRefused func() int64) (*Leadership, error) {
	if reg == nil {
		return nil, errors.New("metrics: nil registerer")
	}
	l := &Leadership{
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "leader",
			Help: "1 while this instance is the leader (processes the change stream), 0 while it stands by.",
		}),
		epoch: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "lease_epoch",
			Help: "Fencing epoch of this instance's current leader term; 0 while standing by or without leases.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "checkpoint_writes_refused_total",
			Help: "Checkpoint writes refused because a newer leader epoch owns the checkpoint.",
		}),
	}
	if firestoreRefused == nil {
		firestoreRefused = func() int64 { return 0 }
	}
	fsRefused := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: "firestore_writes_refused_total",
		Help: "Firestore write RPCs not sent because this instance's lease term had ended (a paused or cut-off former leader).",
	}, func() float64 { return float64(firestoreRefused()) })
	for _, c := range []prometheus.Collector{l.leader, l.epoch, l.refused, fsRefused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	return l, nil
}

// SetRole records a role change (a watcher.RoleFunc).
func (l *Leadership) SetRole(role lease.Role, epoch int64) {
	if role == lease.RoleLeader {
		l.leader.Set(1)
		l.epoch.Set(float64(epoch))
		return
	}
	l.leader.Set(0)
	l.epoch.Set(0)
}

// CheckpointRefused counts a checkpoint write refused by fencing.
func (l *Leadership) CheckpointRefused() { l.refused.Inc() }
