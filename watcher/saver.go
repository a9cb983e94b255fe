package watcher

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/projectwatcher/watcher/internal/clock"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// saver stores the watermark's position in the token store: every
// checkpoint interval, and once more when the watcher stops. It skips a
// position stored already, and stores nothing while a repair after a lost
// history holds it (a newer token stored would hide the loss from the next
// start).
type saver struct {
	store TokenStore
	mark  *watermark
	obs   Observer
	log   zerolog.Logger
	now   func() time.Time

	mu    sync.Mutex // serializes save; guards what follows
	saved bson.Raw   // the last token stored (or loaded)
	// holdGen counts the history losses; releasedGen is the newest whose
	// repair finished. Saves are held while releasedGen < holdGen: a
	// repair that started before the latest loss does not release it.
	holdGen, releasedGen uint64
}

func newSaver(store TokenStore, mark *watermark, obs Observer, log zerolog.Logger) *saver {
	return &saver{store: store, mark: mark, obs: obs, log: log, now: time.Now}
}

// restored notes the token loaded at start: saving it again is skipped.
func (s *saver) restored(token bson.Raw) {
	s.mu.Lock()
	s.saved = token
	s.mu.Unlock()
}

// hold stops saving until release is called with the generation it
// returns (and no hold came after it).
func (s *saver) hold() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdGen++
	return s.holdGen
}

// release ends the hold of generation gen; it reports whether saving
// resumes (false when a later hold is still in force).
func (s *saver) release(gen uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releasedGen = max(s.releasedGen, gen)
	return s.releasedGen == s.holdGen
}

// held reports whether a repair after a lost history holds the saves.
func (s *saver) held() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.releasedGen < s.holdGen
}

// save stores the watermark unless it is the token stored last or saving
// is held. It reports whether it wrote.
func (s *saver) save(ctx context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp, ok := s.mark.Position()
	if !ok || bytes.Equal(cp.Token, s.saved) || s.releasedGen < s.holdGen {
		return false, nil
	}
	cp.SavedAt = s.now().UTC()
	if err := s.store.Save(ctx, cp); err != nil {
		return false, fmt.Errorf("save checkpoint: %w", err)
	}
	s.saved = cp.Token
	s.obs.CheckpointSaved(cp.SavedAt)
	s.log.Debug().Str("token", tokenString(cp.Token)).
		Uint32("clusterTimeT", cp.ClusterTime.T).Uint32("clusterTimeI", cp.ClusterTime.I).
		Msg("checkpoint saved")
	return true, nil
}

// every saves every interval until ctx ends. A failed save is logged and
// retried at the next tick (the watermark only moves forward, so nothing is
// lost by a late save).
func (s *saver) every(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	clock.Every(ctx, interval, func(ctx context.Context) {
		if _, err := s.save(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("checkpoint save failed; retrying at the next interval")
		}
	})
}
