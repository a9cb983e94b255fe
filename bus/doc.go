// Package bus is the event bus on Google Cloud Pub/Sub (bus.mode
// publish): the leader's Publisher, a watcher.Applier that publishes each
// derived event and returns once Pub/Sub acknowledged it (so the checkpoint
// passes an event only after Pub/Sub holds it); the Worker that receives
// the events from the subscription and applies them through the same
// applier chain as direct mode; the versioned message schema
// (docs/EVENTS.md); and Setup, which creates the topics and subscriptions.
package bus
