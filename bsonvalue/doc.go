// Package bsonvalue reads values out of MongoDB documents and converts them
// to what the watcher writes to Firestore: At walks a dotted path, Plain
// turns a BSON value into a plain Go value, Firestore does the same for any
// Go value holding BSON types. One type table (Plain's) decides every
// conversion. It does no I/O.
package bsonvalue
