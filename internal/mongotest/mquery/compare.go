package mquery

import (
	"bytes"
	"cmp"
	"math"
	"math/big"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Canonical type ranks, as MongoDB orders BSON types when comparing values of
// different types (canonicalizeBSONType in the server).
const (
	rankMinKey    = -1
	rankUndefined = 0
	rankNull      = 5
	rankNumber    = 10
	rankString    = 15
	rankObject    = 20
	rankArray     = 25
	rankBinary    = 30
	rankObjectID  = 35
	rankBool      = 40
	rankDate      = 45
	rankTimestamp = 47
	rankRegex     = 50
	rankDBPointer = 55
	rankCode      = 60
	rankCodeScope = 65
	rankMaxKey    = 127
)

// typeRank returns the canonical type rank of a value. A nil value is null.
func typeRank(v any) int {
	switch v.(type) {
	case nil, bson.Null:
		return rankNull
	case bson.MinKey:
		return rankMinKey
	case bson.MaxKey:
		return rankMaxKey
	case bson.Undefined:
		return rankUndefined
	case string, bson.Symbol:
		return rankString
	case bson.D:
		return rankObject
	case bson.A, []any:
		return rankArray
	case bson.Binary:
		return rankBinary
	case bson.ObjectID:
		return rankObjectID
	case bool:
		return rankBool
	case bson.DateTime, time.Time:
		return rankDate
	case bson.Timestamp:
		return rankTimestamp
	case bson.Regex:
		return rankRegex
	case bson.DBPointer:
		return rankDBPointer
	case bson.JavaScript:
		return rankCode
	case bson.CodeWithScope:
		return rankCodeScope
	}
	if _, ok := toNumber(v); ok {
		return rankNumber
	}
	// Unknown Go types sort with objects; they never come out of BSON decoding.
	return rankObject
}

// numKind tells how a number is held.
type numKind int

const (
	numInt numKind = iota
	numFloat
	numDecimal
)

// number is a BSON numeric value of any width.
type number struct {
	kind numKind
	i    int64
	f    float64
	d    bson.Decimal128
	// bits is the BSON width of an integer: 32 for int32, 64 for int64.
	bits int
}

// toNumber reports whether v is numeric and returns it.
func toNumber(v any) (number, bool) {
	switch n := v.(type) {
	case int32:
		return number{kind: numInt, i: int64(n), bits: 32}, true
	case int64:
		return number{kind: numInt, i: n, bits: 64}, true
	case int:
		return number{kind: numInt, i: int64(n), bits: 64}, true
	case int8:
		return number{kind: numInt, i: int64(n), bits: 32}, true
	case int16:
		return number{kind: numInt, i: int64(n), bits: 32}, true
	case uint8:
		return number{kind: numInt, i: int64(n), bits: 32}, true
	case uint16:
		return number{kind: numInt, i: int64(n), bits: 32}, true
	case uint32:
		return number{kind: numInt, i: int64(n), bits: 64}, true
	case float64:
		return number{kind: numFloat, f: n}, true
	case float32:
		return number{kind: numFloat, f: float64(n)}, true
	case bson.Decimal128:
		return number{kind: numDecimal, d: n}, true
	}
	return number{}, false
}

func (n number) isNaN() bool {
	switch n.kind {
	case numFloat:
		return math.IsNaN(n.f)
	case numDecimal:
		return n.d.IsNaN()
	}
	return false
}

// inf returns +1 or -1 for infinities and 0 otherwise.
func (n number) inf() int {
	switch n.kind {
	case numFloat:
		if math.IsInf(n.f, 1) {
			return 1
		}
		if math.IsInf(n.f, -1) {
			return -1
		}
	case numDecimal:
		return n.d.IsInf()
	}
	return 0
}

// rat returns the exact value of a finite number.
func (n number) rat() *big.Rat {
	switch n.kind {
	case numInt:
		return new(big.Rat).SetInt64(n.i)
	case numFloat:
		return new(big.Rat).SetFloat64(n.f)
	}
	bi, exp, err := n.d.BigInt()
	if err != nil {
		return new(big.Rat)
	}
	r := new(big.Rat).SetInt(bi)
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
	if exp >= 0 {
		return r.Mul(r, new(big.Rat).SetInt(pow))
	}
	return r.Quo(r, new(big.Rat).SetInt(pow))
}

// float returns the value as a float64 (lossy for big integers and decimals).
func (n number) float() float64 {
	switch n.kind {
	case numInt:
		return float64(n.i)
	case numFloat:
		return n.f
	}
	if n.isNaN() {
		return math.NaN()
	}
	if s := n.inf(); s != 0 {
		return math.Inf(s)
	}
	f, _ := n.rat().Float64()
	return f
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// compareNumbers orders numbers by value; NaN is below every other number and
// equal to itself, as in MongoDB.
func compareNumbers(a, b number) int {
	if a.kind == numInt && b.kind == numInt {
		return cmp.Compare(a.i, b.i)
	}
	if a.kind == numFloat && b.kind == numFloat && !math.IsNaN(a.f) && !math.IsNaN(b.f) {
		return cmp.Compare(a.f, b.f)
	}
	an, bn := a.isNaN(), b.isNaN()
	switch {
	case an && bn:
		return 0
	case an:
		return -1
	case bn:
		return 1
	}
	ai, bi := a.inf(), b.inf()
	if ai != 0 || bi != 0 {
		return cmp.Compare(ai, bi)
	}
	return a.rat().Cmp(b.rat())
}

// Compare orders two BSON values as MongoDB does: by canonical type first
// (MinKey, null, numbers, strings, objects, arrays, binary data, ObjectId,
// booleans, dates, timestamps, regular expressions, ..., MaxKey), then by
// value. It returns -1, 0 or +1.
func Compare(a, b any) int {
	ra, rb := typeRank(a), typeRank(b)
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch ra {
	case rankMinKey, rankMaxKey, rankNull, rankUndefined:
		return 0
	case rankNumber:
		na, _ := toNumber(a)
		nb, _ := toNumber(b)
		return compareNumbers(na, nb)
	case rankString:
		return strings.Compare(stringOf(a), stringOf(b))
	case rankObject:
		da, _ := a.(bson.D)
		db, _ := b.(bson.D)
		return compareDocs(da, db)
	case rankArray:
		aa, _ := asArray(a)
		ab, _ := asArray(b)
		return compareArrays(aa, ab)
	case rankBinary:
		ba, bb := a.(bson.Binary), b.(bson.Binary)
		if c := cmp.Compare(len(ba.Data), len(bb.Data)); c != 0 {
			return c
		}
		if c := cmp.Compare(ba.Subtype, bb.Subtype); c != 0 {
			return c
		}
		return bytes.Compare(ba.Data, bb.Data)
	case rankObjectID:
		oa, ob := a.(bson.ObjectID), b.(bson.ObjectID)
		return bytes.Compare(oa[:], ob[:])
	case rankBool:
		return cmp.Compare(boolInt(a.(bool)), boolInt(b.(bool)))
	case rankDate:
		return cmp.Compare(dateMillis(a), dateMillis(b))
	case rankTimestamp:
		ta, tb := a.(bson.Timestamp), b.(bson.Timestamp)
		return ta.Compare(tb)
	case rankRegex:
		xa, xb := a.(bson.Regex), b.(bson.Regex)
		if c := strings.Compare(xa.Pattern, xb.Pattern); c != 0 {
			return c
		}
		return strings.Compare(xa.Options, xb.Options)
	case rankDBPointer:
		pa, pb := a.(bson.DBPointer), b.(bson.DBPointer)
		if c := strings.Compare(pa.DB, pb.DB); c != 0 {
			return c
		}
		return bytes.Compare(pa.Pointer[:], pb.Pointer[:])
	case rankCode:
		return strings.Compare(string(a.(bson.JavaScript)), string(b.(bson.JavaScript)))
	case rankCodeScope:
		ca, cb := a.(bson.CodeWithScope), b.(bson.CodeWithScope)
		if c := strings.Compare(string(ca.Code), string(cb.Code)); c != 0 {
			return c
		}
		return Compare(ca.Scope, cb.Scope)
	}
	return 0
}

// compareDocs compares documents element by element: the canonical type of
// the values, then the field names, then the values; a prefix sorts first.
func compareDocs(a, b bson.D) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := cmp.Compare(typeRank(a[i].Value), typeRank(b[i].Value)); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].Key, b[i].Key); c != 0 {
			return c
		}
		if c := Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func compareArrays(a, b bson.A) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// Equal reports whether two values are equal for MongoDB queries: same type
// bracket and equal value (so int32(1), int64(1) and 1.0 are equal).
func Equal(a, b any) bool { return Compare(a, b) == 0 }

// identical reports whether two values are equal including their BSON types
// (int32(1) and 1.0 differ), as update no-op detection requires.
func identical(a, b any) bool {
	switch x := a.(type) {
	case bson.D:
		y, ok := b.(bson.D)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Key != y[i].Key || !identical(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case bson.A, []any:
		xa, _ := asArray(x)
		ya, ok := asArray(b)
		if !ok || len(xa) != len(ya) {
			return false
		}
		for i := range xa {
			if !identical(xa[i], ya[i]) {
				return false
			}
		}
		return true
	}
	if bsonType(a) != bsonType(b) {
		return false
	}
	return Compare(a, b) == 0
}

// bsonType returns a name for the BSON type of a value, distinguishing the
// numeric widths.
func bsonType(v any) string {
	switch v.(type) {
	case int32, int8, int16, uint8, uint16:
		return "int"
	case int64, int, uint32:
		return "long"
	case float64, float32:
		return "double"
	case bson.Decimal128:
		return "decimal"
	case nil, bson.Null:
		return "null"
	case string:
		return "string"
	case bson.Symbol:
		return "symbol"
	case bson.D:
		return "object"
	case bson.A, []any:
		return "array"
	case bson.Binary:
		return "binData"
	case bson.ObjectID:
		return "objectId"
	case bool:
		return "bool"
	case bson.DateTime, time.Time:
		return "date"
	case bson.Timestamp:
		return "timestamp"
	case bson.Regex:
		return "regex"
	case bson.Undefined:
		return "undefined"
	case bson.MinKey:
		return "minKey"
	case bson.MaxKey:
		return "maxKey"
	case bson.JavaScript:
		return "javascript"
	case bson.CodeWithScope:
		return "javascriptWithScope"
	case bson.DBPointer:
		return "dbPointer"
	}
	return "unknown"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func stringOf(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case bson.Symbol:
		return string(s)
	}
	return ""
}

func dateMillis(v any) int64 {
	switch d := v.(type) {
	case bson.DateTime:
		return int64(d)
	case time.Time:
		return d.UnixMilli()
	}
	return 0
}

// asArray returns v as an array when it is one.
func asArray(v any) (bson.A, bool) {
	switch a := v.(type) {
	case bson.A:
		return a, true
	case []any:
		return bson.A(a), true
	}
	return nil, false
}
