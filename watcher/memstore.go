package watcher

import (
	"context"
	"fmt"
	"sync"

	"github.com/projectwatcher/watcher/event"
)

// MemoryStore is a TokenStore that never writes through: it loads the
// checkpoint of its base store once (read only; nil base: none) and keeps
// every later save in memory. A dry run uses it so that it starts where the
// real watcher stands and moves nothing the real watcher relies on.
type MemoryStore struct {
	base TokenStore

	mu     sync.Mutex
	loaded bool
	cp     event.Checkpoint
	ok     bool
}

var _ TokenStore = (*MemoryStore)(nil)

// NewMemoryStore returns a MemoryStore reading its start from base.
func NewMemoryStore(base TokenStore) *MemoryStore {
	return &MemoryStore{base: base}
}

// Load implements TokenStore: the last save in memory, else base's.
func (m *MemoryStore) Load(ctx context.Context) (event.Checkpoint, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.loaded && m.base != nil {
		cp, ok, err := m.base.Load(ctx)
		if err != nil {
			return event.Checkpoint{}, false, fmt.Errorf("memory store: load the base checkpoint: %w", err)
		}
		m.cp, m.ok = cp, ok
	}
	m.loaded = true
	return m.cp, m.ok, nil
}

// Save implements TokenStore: in memory only.
func (m *MemoryStore) Save(_ context.Context, cp event.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cp, m.ok, m.loaded = cp, true, true
	return nil
}
