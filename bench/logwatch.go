package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// tailBuffer keeps the last max bytes written to it (the watcher's log),
// and hands lines that watchers wait for to them.
type tailBuffer struct {
	mu       sync.Mutex
	max      int
	buf      []byte
	partial  []byte // the last line, until its newline arrives
	watchers []lineWatch
}

// lineWatch waits for the first "event applied" line naming projectID.
type lineWatch struct {
	projectID string
	found     chan string
}

// appliedMessage is how the watcher's log marks an applied event.
const appliedMessage = `"message":"event applied"`

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	if len(b.watchers) == 0 {
		return len(p), nil
	}
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		b.match(string(b.partial[:i]))
		b.partial = b.partial[i+1:]
	}
	return len(p), nil
}

func (b *tailBuffer) match(line string) {
	if !strings.Contains(line, appliedMessage) {
		return
	}
	kept := b.watchers[:0]
	for _, w := range b.watchers {
		if strings.Contains(line, `"projectId":"`+w.projectID+`"`) {
			w.found <- line
			continue
		}
		kept = append(kept, w)
	}
	b.watchers = kept
}

// watch returns a channel that receives the watcher's "event applied" log
// line of projectID, once it is written.
func (b *tailBuffer) watch(projectID string) <-chan string {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := lineWatch{projectID: projectID, found: make(chan string, 1)}
	b.watchers = append(b.watchers, w)
	return w.found
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// appliedSeconds is the apply time an "event applied" line reports
// (durationMs), in seconds; 0 when it cannot be read.
func appliedSeconds(line string) float64 {
	var v struct {
		DurationMs float64 `json:"durationMs"`
	}
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		return 0
	}
	return v.DurationMs / 1000
}
