// Command bench measures the watcher against the Firestore emulator: the
// real watcher binary, two floors (BulkWriters over the known documents;
// the least discovery any implementation needs, then BulkWriters) and a
// baseline (one event at a time, one write at a time) on the same data,
// directly and under a production model (round-trip time added by a
// latency proxy). Run it with `make bench`, which starts the emulator when
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

// flags are the command line: the settings and what to run.
type flags struct {
	cfg      settings
	only     string
	models   string
	delay    time.Duration
	variants string
	out      string
	verbose  bool
	wenv     string
	command  string
	bus      *busSettings
	busParse func() error
}

func parseFlags() flags {
	var f flags
	flag.StringVar(&f.only, "scenarios", "S1,S2,S3,S4,S5,S6", "comma-separated scenarios to run (S6 also runs its control S6c)")
	flag.StringVar(&f.models, "models", modelDirect+","+modelRTT, "comma-separated models: direct, rtt (every client through a latency proxy); S5 runs directly only")
	flag.DurationVar(&f.delay, "delay", 10*time.Millisecond, "one-way delay of the rtt model's proxy (the model is named rtt<2×delay>ms)")
	flag.StringVar(&f.variants, "variants", "watcher,write_floor,plan_floor,baseline", "what S1, S2 and S4 measure")
	flag.StringVar(&f.out, "out", "bench/results", "directory of latest.md, latest.json and profiles/ (empty: none)")
	flag.BoolVar(&f.verbose, "v", false, "debug logging")
	flag.StringVar(&f.wenv, "watcher-env", "", "semicolon-separated KEY=VALUE pairs added to the watcher's environment (e.g. WATCHER_SYNC_WORKERS=16)")
	flag.StringVar(&f.command, "command", "", "how this run was started, for the report (default: go run ./bench and the arguments)")
	f.bus, f.busParse = busFlags()
	c := &f.cfg
	flag.IntVar(&c.repeats, "repeats", 3, "repetitions per scenario and model (the median is reported)")
	flag.IntVar(&c.s4Assets, "s4-assets", 100000, "assets of S4's giant project")
	flag.IntVar(&c.s4Repeats, "s4-repeats", 1, "repetitions of S4 (seeding 100,000 documents four times per repetition is slow on the emulator)")
	flag.DurationVar(&c.s3Duration, "s3-duration", 60*time.Second, "length of S3's steady load")
	flag.IntVar(&c.s3Rate, "s3-rate", 50, "S3's events per second")
	flag.DurationVar(&c.s3WarmUp, "s3-warmup", 20*time.Second, "length of S3's unmeasured first run (0: none)")
	flag.DurationVar(&c.s5Duration, "s5-duration", 60*time.Second, "length of S5's idle period")
	flag.IntVar(&c.s6.assets, "s6-assets", 100000, "assets of the giant project S6 deletes (and S6c keeps)")
	flag.Float64Var(&c.s6.rate, "s6-rate", 1, "S6's and S6c's small events per second (the emulator scans the giant's 100,000 documents for every query: a faster load saturates it in S6c)")
	flag.DurationVar(&c.s6.duration, "s6-duration", 30*time.Second, "length of S6's and S6c's steady load")
	flag.DurationVar(&c.s6.deleteAt, "s6-delete-at", 5*time.Second, "when S6 deletes the giant project, into the load")
	flag.BoolVar(&c.probe, "probe", true, "measure what single calls cost the backend at two collection sizes (after the scenarios)")
	flag.DurationVar(&c.baselineBudget, "baseline-budget", 20*time.Second, "time budget of one baseline run; beyond it the time is extrapolated from its write rate and the cost computed from its algorithm (0: no budget)")
	flag.Parse()
	if f.command == "" {
		f.command = strings.TrimSpace("go run ./bench " + strings.Join(os.Args[1:], " "))
	}
	return f
}

func runMain() int {
	f := parseFlags()
	level := zerolog.InfoLevel
	if f.verbose {
		level = zerolog.DebugLevel
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05"}).Level(level).
		With().Timestamp().Str("component", "bench").Logger()
	if f.out != "" {
		f.cfg.profileDir = filepath.Join(f.out, "profiles")
	}
	if f.wenv != "" {
		f.cfg.watcherEnv = strings.Split(f.wenv, ";")
	}
	var err error
	if f.cfg.variants, err = parseVariants(f.variants); err != nil {
		log.Error().Err(err).Msg("bad -variants")
		return 2
	}
	if err := f.busParse(); err != nil {
		log.Error().Err(err).Msg("bad -bus flags")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rep, err := runBench(ctx, log, f)
	if err != nil {
		log.Error().Err(err).Msg("benchmark failed")
		return 1
	}
	fmt.Print(rep.markdown())
	if f.out != "" {
		if err := rep.write(f.out); err != nil {
			log.Error().Err(err).Msg("writing results")
			return 1
		}
	}
	return 0
}

func runBench(ctx context.Context, log zerolog.Logger, f flags) (report, error) {
	started := time.Now()
	e, err := newEnv(ctx, log)
	if err != nil {
		return report{}, err
	}
	defer e.Close()
	if err := e.startModels(f.models, f.delay); err != nil {
		return report{}, err
	}
	mongo := "in-process internal/mongotest"
	if e.mongoServer == nil {
		mongo = "WATCHER_TEST_MONGO_URI"
	}
	r := report{Started: started.UTC(), Command: f.command, CPUs: cpus(), Machine: machine(), Emulator: e.emuVersion,
		Mongo: mongo, Repeats: f.cfg.repeats}
	cfg := f.cfg
	cfg.profileModel = e.models[len(e.models)-1].name // the production model when it runs
	for _, m := range e.models {
		if m.proxy != nil {
			r.OneWayDelayMs = float64(m.proxy.Delay()) / float64(time.Millisecond)
		}
	}
	b := &bench{env: e, log: log, cfg: cfg, profiles: map[string]string{}}
	if err := b.warmUp(ctx); err != nil {
		return r, err
	}
	s := newScheduler(b, f.only)
	for _, name := range s.order {
		log.Info().Str("scenario", name).Msg("starting")
		res, err := s.run(ctx, name)
		if err != nil {
			return r, err
		}
		r.Results = append(r.Results, res...)
		if res, err = b.busResults(ctx, name, f.bus); err != nil {
			return r, err
		}
		r.Results = append(r.Results, res...)
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
