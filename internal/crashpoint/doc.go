// Package crashpoint lets tests kill the process at named points of the
// code, to prove that a crash there loses nothing.
//
// Hit(name) marks such a point. In a normal (release) build it is an empty
// function the compiler inlines away: nothing reads the environment and
// nothing can make it act. Built with the tag "crashpoints" (go build -tags
// crashpoints), Hit reads WATCHER_CRASHPOINT, "name:n", and sends SIGKILL
// to its own process the n-th time the point name is hit (n defaults to 1);
// "name:n:stop" sends SIGSTOP instead, so a test can freeze the process at
// that point (a long pause) and resume it with SIGCONT.
// The e2e tests build such a binary next to the release one.
package crashpoint

// EnvVar names the environment variable read by builds with the
// "crashpoints" tag.
const EnvVar = "WATCHER_CRASHPOINT"
