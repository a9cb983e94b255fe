package fscall

import (
	"context"
	"sync"
	"time"
)

// Idle is the context of one streamed read: it is cancelled, with the
// limit's NoAnswerError as its cause, once no result arrived for the limit.
// Touch starts the limit again (a document, a listed reference, a write
// result arrived); Pause stops it while the caller works on what arrived
// (its own time is not Firestore's), until the next Touch. Safe for
// concurrent use.
type Idle struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	d      time.Duration

	mu     sync.Mutex
	timer  *time.Timer // nil while paused
	closed bool
}

// Stream returns the idle limit of a streamed read under ctx, running from
// now. Stop releases it.
func (l Limit) Stream(ctx context.Context) *Idle {
	i := &Idle{d: l.Timeout()}
	i.ctx, i.cancel = context.WithCancelCause(ctx)
	i.timer = time.AfterFunc(i.d, i.expire)
	return i
}

// Context is the read's context: pass it to the call.
func (i *Idle) Context() context.Context { return i.ctx }

func (i *Idle) expire() { i.cancel(&NoAnswerError{Timeout: i.d}) }

// Touch records a result: the limit starts again from now.
func (i *Idle) Touch() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return
	}
	if i.timer == nil {
		i.timer = time.AfterFunc(i.d, i.expire)
		return
	}
	i.timer.Reset(i.d)
}

// Pause stops the limit until the next Touch.
func (i *Idle) Pause() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.timer != nil {
		i.timer.Stop()
		i.timer = nil
	}
}

// Err is fscall.Err for the read's context.
func (i *Idle) Err(err error) error { return Err(i.ctx, err) }

// Stop ends the limit and cancels the read's context (call it when the
// read is over, as with a context.CancelFunc).
func (i *Idle) Stop() {
	i.mu.Lock()
	i.closed = true
	if i.timer != nil {
		i.timer.Stop()
		i.timer = nil
	}
	i.mu.Unlock()
	i.cancel(context.Canceled)
}
