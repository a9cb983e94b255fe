package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// workload changes a world's projects at random: creates projects with
// assets, renames them (often several times in a row), changes the team,
// deletes them (sometimes right after a rename). The change stream events it
// causes are what the daemon under test must apply; world.consistent checks
// the result. The seed is logged so a failing run can be replayed.
type workload struct {
	w       *world
	rng     *rand.Rand
	live    []string // project ids that exist in MongoDB
	serial  int
	events  int // change stream events caused (inserts excluded)
	created int
	deleted int
}

func newWorkload(t *testing.T, w *world) *workload {
	t.Helper()
	seed := rand.Uint64()
	t.Logf("workload seed %d", seed)
	return &workload{w: w, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// seedProjects creates n projects before anything else happens.
func (l *workload) seedProjects(ctx context.Context, n int) {
	for range n {
		l.create(ctx)
	}
}

// run performs n random steps.
func (l *workload) run(ctx context.Context, n int) {
	for range n {
		l.step(ctx)
	}
}

// step performs one random change.
func (l *workload) step(ctx context.Context) {
	r := l.rng.IntN(100)
	switch {
	case len(l.live) < 4 || r < 20:
		l.create(ctx)
	case r < 58:
		l.rename(ctx, l.pick())
	case r < 72:
		// Several renames in a row: only the last name may survive.
		p := l.pick()
		for range 2 + l.rng.IntN(3) {
			l.rename(ctx, p)
		}
	case r < 82:
		l.retag(ctx, l.pick())
	case r < 92:
		l.delete(ctx, l.pick())
	default:
		// A rename immediately followed by the delete: applying them out
		// of order, or writing copies by path, would resurrect assets.
		p := l.pick()
		l.rename(ctx, p)
		l.delete(ctx, p)
	}
}

func (l *workload) pick() string { return l.live[l.rng.IntN(len(l.live))] }

func (l *workload) name() string {
	l.serial++
	return fmt.Sprintf("name-%d", l.serial)
}

func (l *workload) create(ctx context.Context) {
	pid := l.w.addProject(ctx, l.name(), fmt.Sprintf("team-%d", l.rng.IntN(5)), 1+l.rng.IntN(2), l.rng.IntN(3) == 0)
	l.live = append(l.live, pid)
	l.created++
}

func (l *workload) rename(ctx context.Context, pid string) {
	l.w.updateProject(ctx, pid, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: l.name()}}}})
	l.events++
}

func (l *workload) retag(ctx context.Context, pid string) {
	l.w.updateProject(ctx, pid, bson.D{{Key: "$set", Value: bson.D{
		{Key: "owner.team", Value: fmt.Sprintf("team-%d", l.serial)}, {Key: "description", Value: l.name()}}}})
	l.events++
}

func (l *workload) delete(ctx context.Context, pid string) {
	l.w.deleteProject(ctx, pid)
	for i, p := range l.live {
		if p == pid {
			l.live = append(l.live[:i], l.live[i+1:]...)
			break
		}
	}
	l.events++
	l.deleted++
}

func (l *workload) String() string {
	return fmt.Sprintf("%d events (%d projects created, %d deleted, %d live)", l.events, l.created, l.deleted, len(l.live))
}
