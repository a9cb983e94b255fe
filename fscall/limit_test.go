package fscall

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// wantNoAnswer checks that err is the limit's error: a DeadlineExceeded
// status naming Firestore and the limit.
func wantNoAnswer(t *testing.T, err error, d time.Duration) {
	t.Helper()
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("error %v has code %v, want DeadlineExceeded", err, status.Code(err))
	}
	want := "no answer from Firestore within firestore.callTimeout (" + d.String() + ")"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want it to say %q", err, want)
	}
}

func TestIdleEndsAReadWithoutResults(t *testing.T) {
	d := 50 * time.Millisecond
	idle := New(d).Stream(context.Background())
	defer idle.Stop()
	select {
	case <-idle.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the idle limit never ended the read")
	}
	wantNoAnswer(t, idle.Err(status.Error(codes.Canceled, "context canceled")), d)
	if err := idle.Err(nil); err != nil {
		t.Errorf("Err(nil) = %v, want nil: a read that succeeded stays a success", err)
	}
}

func TestIdleTouchAndPauseKeepAReadAlive(t *testing.T) {
	d := 300 * time.Millisecond
	idle := New(d).Stream(context.Background())
	defer idle.Stop()
	for end := time.Now().Add(4 * d); time.Now().Before(end); {
		idle.Touch()
		time.Sleep(5 * time.Millisecond)
	}
	if err := idle.Context().Err(); err != nil {
		t.Fatalf("a read with a result every few ms was ended: %v", err)
	}
	idle.Pause()
	time.Sleep(3 * d)
	if err := idle.Context().Err(); err != nil {
		t.Fatalf("a paused read was ended: %v", err)
	}
	idle.Touch()
	select {
	case <-idle.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the limit did not start again at Touch")
	}
	wantNoAnswer(t, idle.Err(context.Canceled), d)
	notFound := status.Error(codes.NotFound, "no document")
	if err := idle.Err(notFound); err != notFound {
		t.Errorf("Err(NotFound) = %v after the limit: Firestore's own answer must stay", err)
	}
}

func TestCancelledByTheCallerKeepsItsError(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	idle := New(time.Hour).Stream(parent)
	defer idle.Stop()
	unary, cancelUnary := New(time.Hour).Unary(parent)
	defer cancelUnary()
	cancel()
	orig := status.Error(codes.Canceled, "context canceled")
	if err := idle.Err(orig); err != orig {
		t.Errorf("stream: Err = %v, want the caller's own error", err)
	}
	if err := Err(unary, orig); err != orig {
		t.Errorf("unary: Err = %v, want the caller's own error", err)
	}
}

func TestUnaryDeadline(t *testing.T) {
	d := 20 * time.Millisecond
	ctx, cancel := New(d).Unary(context.Background())
	defer cancel()
	<-ctx.Done()
	wantNoAnswer(t, Err(ctx, status.Error(codes.DeadlineExceeded, "context deadline exceeded")), d)
	if New(0).Timeout() != DefaultTimeout {
		t.Errorf("New(0).Timeout() = %v, want the default %v", New(0).Timeout(), DefaultTimeout)
	}
}
