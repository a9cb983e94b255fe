package mongotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Wire protocol opcodes and OP_MSG flags.
const (
	opReply = 1
	opQuery = 2004
	opMsg   = 2013

	msgChecksumPresent = 1 << 0
	msgMoreToCome      = 1 << 1

	headerLen     = 16
	maxMessageLen = 48000000
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// request is one decoded client message.
type request struct {
	requestID int32
	opCode    int32
	db        string
	cmd       bson.D // body with kind-1 sequences appended as arrays
	// moreToCome: the client expects no reply (unacknowledged write).
	moreToCome bool
}

// readRequest reads one message (OP_MSG or OP_QUERY) from r.
func readRequest(r io.Reader) (*request, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	length := int32(binary.LittleEndian.Uint32(hdr[0:]))
	if length < headerLen || length > maxMessageLen {
		return nil, fmt.Errorf("bad message length %d", length)
	}
	body := make([]byte, length-headerLen)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	req := &request{
		requestID: int32(binary.LittleEndian.Uint32(hdr[4:])),
		opCode:    int32(binary.LittleEndian.Uint32(hdr[12:])),
	}
	switch req.opCode {
	case opMsg:
		if err := parseMsg(req, hdr[:], body); err != nil {
			return nil, err
		}
	case opQuery:
		if err := parseQuery(req, body); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unsupported opcode %d", req.opCode)
	}
	return req, nil
}

func parseMsg(req *request, hdr, body []byte) error {
	if len(body) < 4 {
		return errors.New("OP_MSG too short")
	}
	flags := binary.LittleEndian.Uint32(body)
	req.moreToCome = flags&msgMoreToCome != 0
	rest := body[4:]
	if flags&msgChecksumPresent != 0 {
		if len(rest) < 4 {
			return errors.New("OP_MSG checksum missing")
		}
		want := binary.LittleEndian.Uint32(rest[len(rest)-4:])
		h := crc32.Update(0, castagnoli, hdr)
		h = crc32.Update(h, castagnoli, body[:len(body)-4])
		if h != want {
			return errors.New("OP_MSG checksum mismatch")
		}
		rest = rest[:len(rest)-4]
	}
	var seqs []bson.E
	for len(rest) > 0 {
		kind := rest[0]
		rest = rest[1:]
		switch kind {
		case 0:
			doc, n, err := readDoc(rest)
			if err != nil {
				return err
			}
			req.cmd = doc
			rest = rest[n:]
		case 1:
			if len(rest) < 4 {
				return errors.New("OP_MSG document sequence truncated")
			}
			size := int(binary.LittleEndian.Uint32(rest))
			if size < 5 || size > len(rest) {
				return errors.New("OP_MSG bad document sequence size")
			}
			sec := rest[4:size]
			rest = rest[size:]
			name, n, err := readCString(sec)
			if err != nil {
				return err
			}
			sec = sec[n:]
			var docs bson.A
			for len(sec) > 0 {
				doc, n, err := readDoc(sec)
				if err != nil {
					return err
				}
				docs = append(docs, doc)
				sec = sec[n:]
			}
			seqs = append(seqs, bson.E{Key: name, Value: docs})
		default:
			return fmt.Errorf("OP_MSG unknown section kind %d", kind)
		}
	}
	if req.cmd == nil {
		return errors.New("OP_MSG without body")
	}
	req.cmd = append(req.cmd, seqs...)
	for _, e := range req.cmd {
		if e.Key == "$db" {
			if s, ok := e.Value.(string); ok {
				req.db = s
			}
		}
	}
	return nil
}

func parseQuery(req *request, body []byte) error {
	if len(body) < 4 {
		return errors.New("OP_QUERY too short")
	}
	rest := body[4:]
	ns, n, err := readCString(rest)
	if err != nil {
		return err
	}
	rest = rest[n:]
	if len(rest) < 8 {
		return errors.New("OP_QUERY truncated")
	}
	rest = rest[8:]
	doc, _, err := readDoc(rest)
	if err != nil {
		return err
	}
	db, _, _ := cutDot(ns)
	req.db = db
	// A legacy command may be wrapped: {$query: {...}, $readPreference: ...}.
	if len(doc) > 0 && doc[0].Key == "$query" {
		if inner, ok := doc[0].Value.(bson.D); ok {
			doc = inner
		}
	}
	req.cmd = doc
	return nil
}

func cutDot(ns string) (string, string, bool) {
	for i := 0; i < len(ns); i++ {
		if ns[i] == '.' {
			return ns[:i], ns[i+1:], true
		}
	}
	return ns, "", false
}

func readCString(b []byte) (string, int, error) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), i + 1, nil
		}
	}
	return "", 0, errors.New("unterminated cstring")
}

func readDoc(b []byte) (bson.D, int, error) {
	if len(b) < 5 {
		return nil, 0, errors.New("document truncated")
	}
	size := int(binary.LittleEndian.Uint32(b))
	if size < 5 || size > len(b) {
		return nil, 0, errors.New("bad document size")
	}
	var doc bson.D
	if err := bson.Unmarshal(b[:size], &doc); err != nil {
		return nil, 0, fmt.Errorf("decode document: %w", err)
	}
	if doc == nil {
		doc = bson.D{}
	}
	return doc, size, nil
}

// encodeReply builds the reply to req carrying doc: OP_REPLY for OP_QUERY,
// OP_MSG (kind-0 body, no flags) otherwise.
func encodeReply(reqID, respID int32, opCode int32, doc bson.D) ([]byte, error) {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode reply: %w", err)
	}
	var out []byte
	if opCode == opQuery {
		out = make([]byte, headerLen+20, headerLen+20+len(raw))
		binary.LittleEndian.PutUint32(out[12:], opReply)
		// responseFlags 0 (AwaitCapable not needed), cursorID 0, startingFrom 0
		binary.LittleEndian.PutUint32(out[headerLen+16:], 1) // numberReturned
	} else {
		out = make([]byte, headerLen+5, headerLen+5+len(raw))
		binary.LittleEndian.PutUint32(out[12:], opMsg)
		// flagBits 0; section kind 0 at out[headerLen+4]
	}
	out = append(out, raw...)
	binary.LittleEndian.PutUint32(out[0:], uint32(len(out)))
	binary.LittleEndian.PutUint32(out[4:], uint32(respID))
	binary.LittleEndian.PutUint32(out[8:], uint32(reqID))
	return out, nil
}
