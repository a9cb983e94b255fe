package watcher

import (
	"context"
	"time"
)

// project is one project's events as the scheduler holds them; only the
// scheduler touches it.
type project struct {
	id      string
	jobs    []job // jobs[0] is the next to apply; the rest wait behind it, in order
	running bool  // a worker is applying jobs[0]
	due     time.Time
	tries   tries // of jobs[0]
	task    task  // the attempt a worker makes at jobs[0] (reused)
}

// tries are the failed attempts of one event.
type tries struct {
	failed  int       // failed attempts
	counted int       // of those, the ones that count against retry.maxAttempts
	first   time.Time // first failure
	lastErr error
}

// task is one attempt at a project's next event, as a worker makes it: its
// own copy of the job and the tries, handed back to the scheduler after.
type task struct {
	p      *project
	j      job
	tries  tries
	behind int           // later events of the project, waiting
	next   *task         // the next task of the same batch (nil: the last)
	retry  time.Duration // set by the worker: the event waits this long for its next attempt (0: it is complete)
	freed  bool          // set by the worker: its last task of a batch, the worker is free
}

// scheduler is the state of the scheduling loop; only schedule's goroutine
// touches it.
type scheduler struct {
	d        *dispatcher
	projects map[string]*project
	ready    []*project // projects with an event to apply now, oldest first
	waiting  map[*project]bool
	free     []*project // emptied projects, for reuse
	held     int        // events in projects
	running  int        // projects a worker has
	busy     int        // workers with a batch (of one or more)
	picked   []int      // indices in ready of the batch offered
	closing  bool

	timerAt time.Time
	timerC  <-chan time.Time
}

// schedule hands ready projects to the workers until Close (or the end of
// ctx) and every project a worker had has come back; then the workers end.
func (d *dispatcher) schedule(ctx context.Context) {
	defer close(d.work)
	s := &scheduler{d: d, projects: map[string]*project{}, waiting: map[*project]bool{}}
	in, ctxDone := d.in, ctx.Done()
	for {
		if s.closing && len(s.ready) == 0 && s.running == 0 {
			s.abandonWaiting("the dispatcher closed")
			return
		}
		var accept <-chan job
		if in != nil && s.held < d.maxHeld {
			accept = in
		}
		var work chan *task
		var next *task
		if len(s.ready) > 0 && s.busy < d.workers {
			work, next = d.work, s.pick()
		}
		select {
		case j, ok := <-accept:
			if !ok {
				in, s.closing = nil, true
				s.abandonWaiting("the dispatcher closed")
				continue
			}
			s.add(j)
		case work <- next:
			s.handedOut()
		case t := <-d.results:
			s.running--
			if t.freed {
				s.busy--
			}
			s.returned(t)
		case <-s.nextTimer():
			s.timerC = nil
			s.wakeDue()
		case <-ctxDone:
			ctxDone = nil
			s.closing = true // applies are cancelled: nothing waits for a retry
			s.abandonWaiting("applies were cancelled")
		}
		s.publish()
	}
}

// add queues j behind its project's events.
func (s *scheduler) add(j job) {
	if s.d.batchMax > 1 {
		j.batch = batchKey(&j)
	}
	p := s.projects[j.ev.ProjectID]
	if p == nil {
		p = s.newProject(j.ev.ProjectID)
	}
	p.jobs = append(p.jobs, j)
	s.held++
	if len(p.jobs) == 1 && !p.running && !s.waiting[p] {
		s.ready = append(s.ready, p)
	}
}

// returned takes a project back from a worker after one attempt at its
// next event.
func (s *scheduler) returned(t *task) {
	p := t.p
	p.running = false
	if t.retry > 0 {
		p.jobs[0], p.tries = t.j, t.tries // lookups resolved stay resolved
		if s.closing {
			s.abandon(p, "shutting down: no backoff is waited out")
			return
		}
		p.due = s.d.clk.Now().Add(t.retry)
		s.waiting[p] = true
		return
	}
	p.jobs[0] = job{}
	p.jobs = p.jobs[1:]
	s.held--
	p.tries = tries{}
	if len(p.jobs) > 0 {
		s.ready = append(s.ready, p)
		return
	}
	s.release(p)
}

// newProject is a project for id, reusing an emptied one.
func (s *scheduler) newProject(id string) *project {
	var p *project
	if n := len(s.free); n > 0 {
		p, s.free = s.free[n-1], s.free[:n-1]
	} else {
		p = &project{}
	}
	p.id = id
	s.projects[id] = p
	return p
}

// release forgets an emptied project and keeps it for reuse.
func (s *scheduler) release(p *project) {
	delete(s.projects, p.id)
	jobs := p.jobs[:0]
	*p = project{jobs: jobs}
	if len(s.free) < s.d.maxHeld {
		s.free = append(s.free, p)
	}
}

// nextTimer fires when the earliest waiting project is due (nil when none
// waits).
func (s *scheduler) nextTimer() <-chan time.Time {
	if len(s.waiting) == 0 {
		return nil
	}
	var earliest time.Time
	for p := range s.waiting {
		if earliest.IsZero() || p.due.Before(earliest) {
			earliest = p.due
		}
	}
	if s.timerC == nil || !earliest.Equal(s.timerAt) {
		s.timerAt = earliest
		s.timerC = s.d.clk.After(max(earliest.Sub(s.d.clk.Now()), 0))
	}
	return s.timerC
}

// wakeDue makes every waiting project whose backoff is over ready.
func (s *scheduler) wakeDue() {
	now := s.d.clk.Now()
	for p := range s.waiting {
		if !p.due.After(now) {
			delete(s.waiting, p)
			s.ready = append(s.ready, p)
		}
	}
}

// abandonWaiting leaves every waiting project's events unfinished.
func (s *scheduler) abandonWaiting(why string) {
	for p := range s.waiting {
		delete(s.waiting, p)
		s.abandon(p, why)
	}
}

// abandon leaves p's events unfinished (in flight): the checkpoint stays
// before them and they are replayed after a restart.
func (s *scheduler) abandon(p *project, why string) {
	s.d.log.Warn().AnErr("lastError", p.tries.lastErr).Str("projectId", p.id).Int("events", len(p.jobs)).
		Str("why", why).Msg("events waiting for a retry are left unapplied; the checkpoint stays before them")
	s.held -= len(p.jobs)
	clear(p.jobs)
	s.release(p)
}

// publish makes the counts readable from other goroutines (Pending).
func (s *scheduler) publish() {
	s.d.held.Store(int64(s.held))
	s.d.waiting.Store(int64(len(s.waiting)))
}
