// Package lease is leader election for running two or more replicas: a
// lease document in MongoDB that one instance holds at a time, renewed every
// ttl/3 and given up ttl/5 before the expiry it last wrote. Each takeover
// increments an epoch, the fencing token: the checkpoint store
// (resume.Fenced) refuses writes from an older epoch. Lead runs work once
// per term and steps down in the same process when the lease is lost.
package lease
