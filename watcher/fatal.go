package watcher

import (
	"errors"
	"fmt"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrMalformedChange marks a change event that does not have the shape a
// change stream event must have (undecodable BSON, a replace without
// fullDocument, a copied value of an unsupported BSON type).
var ErrMalformedChange = errors.New("malformed change event")

// ErrUnknownOperation marks an operationType the watcher does not know. The
// server-side pipeline only lets known types through, so seeing one means
// the server and the watcher disagree: stop rather than guess.
var ErrUnknownOperation = errors.New("unknown change stream operation type")

// FatalError is a change that ends the stream of the watched collection
// (drop, rename, dropDatabase, invalidate). The watcher must stop and the
// operator must act: it never mass-deletes assets because a collection
// vanished, and it cannot continue the stream past an invalidate.
type FatalError struct {
	Op          string
	Namespace   event.Namespace // ns of the event
	To          event.Namespace // rename target (rename only)
	Token       bson.Raw
	ClusterTime bson.Timestamp
}

func (e *FatalError) Error() string {
	const stop = "the watcher stops and changes nothing in Firestore; check what happened to the collection, " +
		"then restart from a new position (reset the checkpoint) or reconcile"
	switch e.Op {
	case "drop":
		return fmt.Sprintf("fatal change: the watched collection %s was dropped at %s: %s", e.Namespace, event.TimestampString(e.ClusterTime), stop)
	case "rename":
		return fmt.Sprintf("fatal change: the watched collection %s was renamed to %s at %s: %s", e.Namespace, e.To, event.TimestampString(e.ClusterTime), stop)
	case "dropDatabase":
		return fmt.Sprintf("fatal change: the database %s of the watched collection was dropped at %s: %s", e.Namespace.DB, event.TimestampString(e.ClusterTime), stop)
	case "invalidate":
		return fmt.Sprintf("fatal change: the change stream of %s was invalidated at %s (collection dropped or renamed): %s", nsOrUnknown(e.Namespace), event.TimestampString(e.ClusterTime), stop)
	}
	return fmt.Sprintf("fatal change: %s of %s at %s: %s", e.Op, nsOrUnknown(e.Namespace), event.TimestampString(e.ClusterTime), stop)
}

func nsOrUnknown(ns event.Namespace) string {
	if ns.DB == "" {
		return "the watched collection"
	}
	return ns.String()
}
