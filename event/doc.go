// Package event holds the plain types that flow through the watcher's
// pipeline, from the change stream to the checkpoint: the raw Change, the
// derived Event, the Report of what applying it did, the stored Checkpoint
// and the DeadLetter of an event set aside, with the errors that classify a
// failed event. It does no I/O and imports nothing of the project, so every
// other package may import it (as external-dns's endpoint package).
package event
