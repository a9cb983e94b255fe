package mongotest

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// buildOpMsg builds an OP_MSG with a kind-0 body and, when checksum is set, a
// CRC-32C (corrupted when bad is set).
func buildOpMsg(t *testing.T, body bson.D, seqName string, seq []bson.D, checksum, bad bool) []byte {
	t.Helper()
	raw, err := bson.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 16, 256)
	binary.LittleEndian.PutUint32(msg[4:], 7)
	binary.LittleEndian.PutUint32(msg[12:], opMsg)
	flags := uint32(0)
	if checksum {
		flags |= msgChecksumPresent
	}
	msg = binary.LittleEndian.AppendUint32(msg, flags)
	msg = append(msg, 0)
	msg = append(msg, raw...)
	if seqName != "" {
		sec := []byte(seqName + "\x00")
		for _, d := range seq {
			b, err := bson.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			sec = append(sec, b...)
		}
		msg = append(msg, 1)
		msg = binary.LittleEndian.AppendUint32(msg, uint32(len(sec)+4))
		msg = append(msg, sec...)
	}
	if checksum {
		msg = append(msg, 0, 0, 0, 0)
	}
	binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
	if checksum {
		sum := crc32.Checksum(msg[:len(msg)-4], crc32.MakeTable(crc32.Castagnoli))
		if bad {
			sum++
		}
		binary.LittleEndian.PutUint32(msg[len(msg)-4:], sum)
	}
	return msg
}

func TestRawOpMsg(t *testing.T) {
	tests := []struct {
		name     string
		msg      func(t *testing.T) []byte
		wantN    int32 // the reply's n (-1: the connection must be closed)
		wantOK   float64
		wantCode int32
	}{
		{"document sequence with checksum", func(t *testing.T) []byte {
			return buildOpMsg(t, bson.D{{Key: "insert", Value: "c"}, {Key: "$db", Value: "raw"}}, "documents",
				[]bson.D{{{Key: "_id", Value: 1}}, {{Key: "_id", Value: 2}}}, true, false)
		}, 2, 1, 0},
		{"bad checksum closes the connection", func(t *testing.T) []byte {
			return buildOpMsg(t, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}, "", nil, true, true)
		}, -1, 0, 0},
		{"unknown command", func(t *testing.T) []byte {
			return buildOpMsg(t, bson.D{{Key: "nope", Value: 1}, {Key: "$db", Value: "admin"}}, "", nil, false, false)
		}, 0, 0, 59},
	}
	srv := startServer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := nc.Write(tc.msg(t)); err != nil {
				t.Fatal(err)
			}
			reply, err := readReply(nc)
			if tc.wantN < 0 {
				if err == nil {
					t.Fatalf("got reply %v, want the connection closed", reply)
				}
				return
			}
			if err != nil {
				t.Fatalf("read reply: %v", err)
			}
			ok, _ := lookupKey(reply, "ok")
			code, _ := lookupKey(reply, "code")
			n, _ := lookupKey(reply, "n")
			if ok != tc.wantOK {
				t.Errorf("ok = %v, want %v (reply %v)", ok, tc.wantOK, reply)
			}
			if tc.wantCode != 0 && code != tc.wantCode {
				t.Errorf("code = %v, want %d", code, tc.wantCode)
			}
			if tc.wantCode == 0 && n != tc.wantN {
				t.Errorf("n = %v, want %d", n, tc.wantN)
			}
		})
	}
}

// readReply reads one OP_MSG reply and returns its body.
func readReply(nc net.Conn) (bson.D, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.LittleEndian.Uint32(hdr[:])-16)
	if _, err := io.ReadFull(nc, body); err != nil {
		return nil, err
	}
	if op := binary.LittleEndian.Uint32(hdr[12:]); op != opMsg {
		return nil, fmt.Errorf("reply opcode %d, want OP_MSG", op)
	}
	var d bson.D
	if err := bson.Unmarshal(body[5:], &d); err != nil {
		return nil, err
	}
	return d, nil
}
