package main

import (
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/projectwatcher/watcher/reconcile"
	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
)

// isTerminal reports whether w is a terminal (the progress bar's place).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// barProgress draws a progress bar per collection, with rate and ETA.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newBarProgress(w io.Writer) *barProgress { return &barProgress{w: w} }

func (p *barProgress) Start(collection string, total int) {
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(collection),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("docs"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(p.w, "\n") }),
	)
}

func (p *barProgress) Add(n int) {
	if p.bar != nil {
		_ = p.bar.Add(n)
	}
}

func (p *barProgress) Done(reconcile.CollectionSummary) {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// logProgressEvery is how often logProgress logs while a collection is
// scanned.
const logProgressEvery = 10 * time.Second

// logProgress reports progress as log lines (stderr is not a terminal).
type logProgress struct {
	log        zerolog.Logger
	collection string
	total      int
	done       int
	started    time.Time
	lastLog    time.Time
}

func newLogProgress(log zerolog.Logger) *logProgress {
	return &logProgress{log: log.With().Str("component", "reconcile").Logger()}
}

func (p *logProgress) Start(collection string, total int) {
	now := time.Now()
	p.collection, p.total, p.done, p.started, p.lastLog = collection, total, 0, now, now
	p.log.Info().Str("collection", collection).Int("documents", total).Msg("scanning")
}

func (p *logProgress) Add(n int) {
	p.done += n
	now := time.Now()
	if now.Sub(p.lastLog) < logProgressEvery {
		return
	}
	p.lastLog = now
	rate := float64(p.done) / now.Sub(p.started).Seconds()
	ev := p.log.Info().Str("collection", p.collection).Int("scanned", p.done).Int("documents", p.total).
		Float64("docsPerSecond", rate)
	if p.total > 0 && rate > 0 && p.done < p.total {
		ev = ev.Int64("etaMs", int64(float64(p.total-p.done)/rate*1000))
	}
	ev.Msg("scanning")
}

func (p *logProgress) Done(reconcile.CollectionSummary) {}
