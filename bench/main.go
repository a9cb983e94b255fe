// Command bench measures the watcher against the Firestore emulator: the
// real watcher binary, a floor (a BulkWriter over the known documents) and a
// baseline (one event at a time, one write at a time) on the same data.
// Run it with `make bench`, which starts the emulator when
// FIRESTORE_EMULATOR_HOST is unset.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

func main() {
	os.Exit(runMain())
}

func runMain() int {
	var (
		only     = flag.String("scenarios", "S1,S2,S3,S4,S5", "comma-separated scenarios to run")
		variants = flag.String("variants", "watcher,floor,baseline", "what S1, S2 and S4 measure")
		cfg      settings
		out      = flag.String("out", "bench/results", "directory of latest.md and latest.json (empty: none)")
		verbose  = flag.Bool("v", false, "debug logging")
		wenv     = flag.String("watcher-env", "", "semicolon-separated KEY=VALUE pairs added to the watcher's environment (e.g. WATCHER_SYNC_WORKERS=16)")
	)
	flag.IntVar(&cfg.repeats, "repeats", 3, "repetitions per scenario (the median is reported)")
	flag.IntVar(&cfg.s4Assets, "s4-assets", 100000, "assets of S4's giant project")
	flag.DurationVar(&cfg.s3Duration, "s3-duration", 60*time.Second, "length of S3's steady load")
	flag.IntVar(&cfg.s3Rate, "s3-rate", 50, "S3's events per second")
	flag.DurationVar(&cfg.s5Duration, "s5-duration", 60*time.Second, "length of S5's idle period")
	flag.IntVar(&cfg.s4Repeats, "s4-repeats", 1, "repetitions of S4 (seeding 100,000 documents three times per repetition is slow on the emulator)")
	flag.BoolVar(&cfg.probe, "probe", true, "measure what single calls cost the backend at two collection sizes (after the scenarios)")
	flag.DurationVar(&cfg.baselineBudget, "baseline-budget", 30*time.Second, "time budget of one baseline run; beyond it the time is extrapolated from its write rate (0: no budget)")
	flag.Parse()

	level := zerolog.InfoLevel
	if *verbose {
		level = zerolog.DebugLevel
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05"}).Level(level).
		With().Timestamp().Str("component", "bench").Logger()

	if *out != "" {
		cfg.profileDir = filepath.Join(*out, "profiles")
	}
	if *wenv != "" {
		cfg.watcherEnv = strings.Split(*wenv, ";")
	}
	cfg.variants = map[string]bool{}
	for _, v := range strings.Split(*variants, ",") {
		cfg.variants[strings.TrimSpace(v)] = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rep, err := runBench(ctx, log, cfg, strings.Split(*only, ","))
	if err != nil {
		log.Error().Err(err).Msg("benchmark failed")
		return 1
	}
	fmt.Print(rep.markdown())
	if *out != "" {
		if err := rep.write(*out); err != nil {
			log.Error().Err(err).Msg("writing results")
			return 1
		}
	}
	return 0
}

func runBench(ctx context.Context, log zerolog.Logger, cfg settings, only []string) (report, error) {
	started := time.Now()
	e, err := newEnv(ctx, log)
	if err != nil {
		return report{}, err
	}
	defer e.Close()
	mongo := "in-process internal/mongotest"
	if e.mongoServer == nil {
		mongo = "WATCHER_TEST_MONGO_URI"
	}
	r := report{Started: started.UTC(), CPUs: cpus(), Machine: machine(), Emulator: e.emuVersion, Mongo: mongo, Repeats: cfg.repeats}
	b := &bench{env: e, log: log, cfg: cfg, profiles: map[string]string{}}
	burstShape := shape{projects: 200, assets: 30, subEvery: 10, subDocs: 2}
	bursts := map[string]struct {
		desc string
		sc   burst
	}{
		"S1": {"cleanup burst (200 projects × 30 assets, 10% with 2 subdocuments)", deleteBurst("S1", burstShape)},
		"S2": {"rename burst (200 projects × 30 assets)", renameBurst("S2", burstShape)},
		"S4": {fmt.Sprintf("giant project (%d assets, recursive off)", cfg.s4Assets), giant(cfg.s4Assets)},
	}
	if err := b.warmUp(ctx); err != nil {
		return r, err
	}
	want := map[string]bool{}
	for i, name := range only {
		only[i] = strings.ToUpper(strings.TrimSpace(name))
		want[only[i]] = true
	}
	var idleDone chan idleResult
	for _, name := range only {
		log.Info().Str("scenario", name).Msg("starting")
		var runs []run
		desc := ""
		switch name {
		case "S1", "S2", "S4":
			bs := bursts[name]
			desc = bs.desc
			reps := cfg.repeats
			if name == "S4" {
				reps = cfg.s4Repeats
			}
			for i := 1; i <= reps; i++ {
				rn, err := b.runBurst(ctx, bs.sc, i)
				if err != nil {
					return r, err
				}
				runs = append(runs, rn)
			}
		case "S3":
			desc = fmt.Sprintf("latency (%d events/s of deletes and renames for %s)", cfg.s3Rate, cfg.s3Duration)
			if want["S5"] && idleDone == nil {
				// S5's idle watchers run beside S3: they only cost wall time.
				ch := make(chan idleResult, 1)
				idleDone = ch
				go func() {
					runs, err := b.idle(ctx, cfg.repeats)
					ch <- idleResult{runs, err}
				}()
			}
			if err := b.latencyWarmUp(ctx); err != nil {
				return r, err
			}
			for i := 1; i <= cfg.repeats; i++ {
				rn, err := b.latency(ctx, i)
				if err != nil {
					return r, err
				}
				runs = append(runs, rn)
			}
		case "S5":
			desc = fmt.Sprintf("idle for %s", cfg.s5Duration)
			if idleDone != nil {
				res := <-idleDone
				runs, err = res.runs, res.err
			} else {
				runs, err = b.idle(ctx, cfg.repeats)
			}
			if err != nil {
				return r, err
			}
		default:
			return r, fmt.Errorf("unknown scenario %q (want S1..S5)", name)
		}
		r.Scenarios = append(r.Scenarios, summarize(name, desc, runs))
	}
	if cfg.probe { // last, on a warm emulator (its JIT slows the first calls)
		if r.Probe, err = b.probe(ctx); err != nil {
			return r, err
		}
	}
	r.DurationSeconds = time.Since(started).Seconds()
	r.Profiles = b.profiles
	return r, nil
}

// giant is S4: one project, no per-event document limit, and no recursive
// collection: the emulator answers each document's subcollection listing
// in time that grows with the database (10,000 assets: 18 s instead of
// 1.4 s), so S4 measures paging and memory while S1 measures recursion.
func giant(assets int) burst {
	b := deleteBurst("S4", shape{projects: 1, assets: assets})
	b.maxDocs = 0
	b.env = []string{`WATCHER_SYNC_COLLECTIONS=[{"name":"storyboards"},{"name":"aiAnalyses"},{"name":"generatedMedia"}]`}
	return b
}

type idleResult struct {
	runs []run
	err  error
}
