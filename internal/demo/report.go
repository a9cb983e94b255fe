package demo

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// printStates prints one row per project: its documents per collection and
// the projectName values its assets carry.
func printStates(c *console, states []State) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "project\t\tstoryboards\tframes\taiAnalyses\tgeneratedMedia\ttotal\tprojectName in assets\t")
	for _, s := range states {
		names := "—"
		if len(s.Names) > 0 {
			names = `"` + strings.Join(s.Names, `", "`) + `"`
		}
		fmt.Fprintf(tw, "%s\t(%s)\t%d\t%d\t%d\t%d\t%d\t%s\t\n", s.Project, s.Label, s.Docs["storyboards"], s.Docs["storyboards/"+frames],
			s.Docs["aiAnalyses"], s.Docs["generatedMedia"], s.Total(), names)
	}
	_ = tw.Flush()
	c.printf("%s", b.String())
}

// instructions tell the user what is running and how to try more.
func (s *stack) instructions(c *console) {
	watcher := "  " + strings.Join(s.env(), " \\\n  ") + " \\\n  " + s.work + "/watcher"
	c.printf(`
== Everything keeps running. Try more:
  MongoDB (the project's test server, a one-node replica set rs0): %[1]s
    projects are in collaboration.projects; change or delete one with any MongoDB driver
    and watch the watcher's log below.
  Firestore emulator: FIRESTORE_EMULATOR_HOST=%[2]s, project %[3]s
  The watcher's state:   curl -s http://%[4]s/status
                         curl -s http://%[4]s/metrics | grep '^watcher_'
                         curl -s http://%[4]s/readyz
  The watcher's commands, with the demo's configuration:
%[5]s checkpoint show -c %[6]s
    (also: dlq list, reconcile --dry-run, config print)
  MongoDB test server log: %[7]s/mongotest.log
Press Ctrl-C to stop everything.
`, s.mongoURI, s.emulator, s.fsProject, s.httpAddr, watcher, s.configPath, s.work)
}
