// Package demo is `make demo`: the watcher at work on one machine, without
// Docker. It starts the project's MongoDB test server (internal/mongotest)
// and the watcher on config.yaml of this folder, against the Firestore
// emulator named by FIRESTORE_EMULATOR_HOST (scripts/with-firestore-emulator.sh
// starts one); seeds three projects with assets; deletes one and renames
// another while it shows the counts before and after and the watcher's log;
// then leaves it all running for the user to try more, until Ctrl-C.
//
// Every child runs in its own process group: a Ctrl-C in the terminal reaches
// only the demo, which stops the watcher first (its last checkpoint goes to
// MongoDB) and then the test server, each by its whole group.
package demo
