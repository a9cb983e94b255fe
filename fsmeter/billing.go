package fsmeter

import (
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/genproto/googleapis/rpc/code"
)

// aggregationEntriesPerRead is how many index entries an aggregation
// query reads for one billed document read.
const aggregationEntriesPerRead = 1000

// unaryBill is what a successful unary RPC is billed: reads and writes.
func unaryBill(method string, reply any) (reads, writes int) {
	switch r := reply.(type) {
	case *firestorepb.CommitResponse:
		return 0, len(r.GetWriteResults())
	case *firestorepb.BatchWriteResponse:
		for _, st := range r.GetStatus() {
			if st.GetCode() == int32(code.Code_OK) {
				writes++
			}
		}
		return 0, writes
	case *firestorepb.ListDocumentsResponse:
		return max(1, len(r.GetDocuments())), 0
	}
	switch method {
	case "GetDocument", "ListCollectionIds":
		return 1, 0
	case "CreateDocument", "UpdateDocument", "DeleteDocument":
		return 0, 1
	}
	return 0, 0
}

// streamBill is what one received message of a streaming RPC is billed,
// and whether it returned a result (a query that returns none is billed
// one read at its end).
func streamBill(m any) (reads int, result bool) {
	switch r := m.(type) {
	case *firestorepb.RunQueryResponse:
		if r.GetDocument() != nil {
			return 1, true
		}
	case *firestorepb.BatchGetDocumentsResponse:
		if r.GetFound() != nil || r.GetMissing() != "" {
			return 1, true
		}
	case *firestorepb.RunAggregationQueryResponse:
		if res := r.GetResult(); res != nil {
			entries := int64(0)
			for _, v := range res.GetAggregateFields() {
				entries = max(entries, v.GetIntegerValue())
			}
			return max(1, int((entries+aggregationEntriesPerRead-1)/aggregationEntriesPerRead)), true
		}
	}
	return 0, false
}

// minimumOneRead reports whether Firestore bills one read for a call of
// method that returns nothing.
func minimumOneRead(method string) bool { return method == "RunQuery" }
