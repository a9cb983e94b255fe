package mongotest

import (
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// retryKey identifies a retryable write: session id and transaction number.
type retryKey struct {
	lsid string
	txn  int64
}

// maxRetryEntries bounds the remembered retryable-write replies.
const maxRetryEntries = 100000

// retryableLocked runs a write once per (lsid, txnNumber): a retry of an
// already applied write gets the first reply back and changes nothing.
func (s *Server) retryableLocked(x *cmdCtx, run func() (bson.D, error)) (bson.D, error) {
	lsid, hasLsid := x.get("lsid")
	txnRaw, hasTxn := x.get("txnNumber")
	txn, isNum := asInt64(txnRaw)
	if !hasLsid || !hasTxn || !isNum {
		return run()
	}
	key := retryKey{lsid: idKey(lsid), txn: txn}
	if r, ok := s.retries[key]; ok {
		s.log.Debug().Str("cmd", x.name).Int64("txnNumber", txn).Msg("retried write: returning the first reply")
		return slices.Clone(r), nil
	}
	r, err := run()
	if err != nil {
		return nil, err
	}
	if len(s.retries) >= maxRetryEntries {
		clear(s.retries)
	}
	s.retries[key] = slices.Clone(r) // callers append to replies
	return r, nil
}

// isRetriedWrite reports whether x retries a retryable write already applied.
func (s *Server) isRetriedWrite(x *cmdCtx) bool {
	if !writeCommands[x.name] {
		return false
	}
	lsid, hasLsid := x.get("lsid")
	txnRaw, hasTxn := x.get("txnNumber")
	txn, isNum := asInt64(txnRaw)
	if !hasLsid || !hasTxn || !isNum {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.retries[retryKey{lsid: idKey(lsid), txn: txn}]
	return ok
}
