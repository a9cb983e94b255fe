package mquery

import (
	"math"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// accumulatorSpec is one output field of $group.
type accumulatorSpec struct {
	field string
	op    string
	expr  expression
}

// accumulator folds the values of one group.
type accumulator interface {
	add(v any, ok bool)
	result() any
}

func parseGroupStage(arg any) (stage, error) {
	spec, ok := arg.(bson.D)
	if !ok {
		return nil, newError(15947, "a group's fields must be specified in an object")
	}
	var idExpr expression
	var accs []accumulatorSpec
	for _, e := range spec {
		if e.Key == "_id" {
			x, err := parseExpression(e.Value)
			if err != nil {
				return nil, err
			}
			idExpr = x
			continue
		}
		if strings.Contains(e.Key, ".") {
			return nil, newError(40235, "The field name '%s' cannot contain '.'", e.Key)
		}
		if strings.HasPrefix(e.Key, "$") {
			return nil, newError(40236, "The field name '%s' cannot be an operator name", e.Key)
		}
		d, ok := e.Value.(bson.D)
		if !ok || len(d) != 1 {
			return nil, newError(40234, "The field '%s' must be an accumulator object", e.Key)
		}
		op := d[0].Key
		if newAccumulator(op) == nil {
			return nil, newError(15952, "unknown group operator '%s'", op)
		}
		var x expression = literalExpr{int32(1)}
		if op == "$count" {
			if cd, ok := d[0].Value.(bson.D); !ok || len(cd) != 0 {
				return nil, newError(CodeTypeMismatch, "$count takes no arguments, i.e. $count:{}")
			}
		} else {
			var err error
			if x, err = parseExpression(d[0].Value); err != nil {
				return nil, err
			}
		}
		accs = append(accs, accumulatorSpec{field: e.Key, op: op, expr: x})
	}
	if idExpr == nil {
		return nil, newError(15955, "a group specification must include an _id")
	}
	return func(docs []bson.D) ([]bson.D, error) {
		type group struct {
			id   any
			accs []accumulator
		}
		var groups []*group
		for _, doc := range docs {
			id, ok := idExpr.eval(doc)
			if !ok {
				id = nil
			}
			var g *group
			for _, cand := range groups {
				if Compare(cand.id, id) == 0 {
					g = cand
					break
				}
			}
			if g == nil {
				g = &group{id: id}
				for _, a := range accs {
					g.accs = append(g.accs, newAccumulator(a.op))
				}
				groups = append(groups, g)
			}
			for i, a := range accs {
				v, ok := a.expr.eval(doc)
				g.accs[i].add(v, ok)
			}
		}
		out := make([]bson.D, 0, len(groups))
		for _, g := range groups {
			d := bson.D{{Key: "_id", Value: g.id}}
			for i, a := range accs {
				d = append(d, bson.E{Key: a.field, Value: g.accs[i].result()})
			}
			out = append(out, d)
		}
		return out, nil
	}, nil
}

// newAccumulator returns a fresh accumulator for op, or nil if unknown.
func newAccumulator(op string) accumulator {
	switch op {
	case "$sum", "$count":
		return &sumAcc{}
	case "$avg":
		return &avgAcc{}
	case "$first":
		return &firstAcc{}
	case "$last":
		return &lastAcc{}
	case "$min":
		return &minMaxAcc{isMin: true}
	case "$max":
		return &minMaxAcc{}
	case "$push":
		return &pushAcc{}
	case "$addToSet":
		return &pushAcc{unique: true}
	}
	return nil
}

// sumAcc adds numbers (others are ignored): int32 while it fits, then
// int64, then double; any double (or decimal, summed as a double here)
// makes a double.
type sumAcc struct {
	i      int64
	f      float64
	long   bool
	double bool
}

func (s *sumAcc) add(v any, ok bool) {
	n, isNum := toNumber(v)
	if !ok || !isNum {
		return
	}
	if n.kind != numInt {
		s.double = true
		s.f += n.float()
		return
	}
	if n.bits == 64 {
		s.long = true
	}
	sum := s.i + n.i
	if (sum > s.i) != (n.i > 0) {
		s.double = true
		s.f += float64(s.i) + float64(n.i)
		s.i = 0
		return
	}
	s.i = sum
}

func (s *sumAcc) result() any {
	switch {
	case s.double:
		return s.f + float64(s.i)
	case s.long || s.i > math.MaxInt32 || s.i < math.MinInt32:
		return s.i
	}
	return int32(s.i)
}

type avgAcc struct {
	sum float64
	n   int
}

func (a *avgAcc) add(v any, ok bool) {
	if n, isNum := toNumber(v); ok && isNum {
		a.sum += n.float()
		a.n++
	}
}

func (a *avgAcc) result() any {
	if a.n == 0 {
		return nil
	}
	return a.sum / float64(a.n)
}

type firstAcc struct {
	v   any
	set bool
}

func (f *firstAcc) add(v any, ok bool) {
	if !f.set {
		f.v, f.set = v, true
	}
}

func (f *firstAcc) result() any { return f.v }

type lastAcc struct{ v any }

func (l *lastAcc) add(v any, ok bool) { l.v = v }
func (l *lastAcc) result() any        { return l.v }

// minMaxAcc ignores null and missing values.
type minMaxAcc struct {
	isMin bool
	v     any
	set   bool
}

func (m *minMaxAcc) add(v any, ok bool) {
	if !ok || typeRank(v) == rankNull || typeRank(v) == rankUndefined {
		return
	}
	if !m.set {
		m.v, m.set = v, true
		return
	}
	c := Compare(v, m.v)
	if (m.isMin && c < 0) || (!m.isMin && c > 0) {
		m.v = v
	}
}

func (m *minMaxAcc) result() any { return m.v }

// pushAcc collects values (missing ones skipped); unique for $addToSet.
type pushAcc struct {
	unique bool
	vals   bson.A
}

func (p *pushAcc) add(v any, ok bool) {
	if !ok {
		return
	}
	if p.unique {
		for _, x := range p.vals {
			if Compare(x, v) == 0 {
				return
			}
		}
	}
	p.vals = append(p.vals, v)
}

func (p *pushAcc) result() any {
	if p.vals == nil {
		return bson.A{}
	}
	return p.vals
}
