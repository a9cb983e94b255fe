package mquery

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Filter is a parsed query filter; parse once, match many documents.
type Filter struct {
	m matcher
}

// ParseFilter validates and compiles a query filter. Errors are *Error with
// MongoDB's codes (unknown operators are BadValue, code 2).
func ParseFilter(filter bson.D) (*Filter, error) {
	m, err := parseFilterDoc(filter)
	if err != nil {
		return nil, err
	}
	return &Filter{m: m}, nil
}

// Matches reports whether doc matches the filter.
func (f *Filter) Matches(doc bson.D) bool { return f.m.matches(doc) }

// Match reports whether doc matches the query filter.
func Match(doc bson.D, filter bson.D) (bool, error) {
	f, err := ParseFilter(filter)
	if err != nil {
		return false, err
	}
	return f.Matches(doc), nil
}

// matcher is one node of a compiled filter.
type matcher interface {
	matches(doc bson.D) bool
}

type andMatcher []matcher

func (a andMatcher) matches(doc bson.D) bool {
	for _, m := range a {
		if !m.matches(doc) {
			return false
		}
	}
	return true
}

type orMatcher []matcher

func (o orMatcher) matches(doc bson.D) bool {
	for _, m := range o {
		if m.matches(doc) {
			return true
		}
	}
	return false
}

type notMatcher struct{ m matcher }

func (n notMatcher) matches(doc bson.D) bool { return !n.m.matches(doc) }

// missingValue stands for a path that a document does not have; value tests
// receive it where the path ends in a missing field.
type missingValue struct{}

// valueTest tests one value reached by a path.
type valueTest func(v any) bool

// pathMatcher matches when some value reached by the path passes the test.
// With expand, an array reached at the end of the path is tested as a whole
// and element by element (MongoDB's implicit array semantics).
type pathMatcher struct {
	parts  []string
	expand bool
	test   valueTest
}

func (p pathMatcher) matches(doc bson.D) bool {
	found := false
	walkPath(doc, p.parts, func(v any, missing bool) {
		if found {
			return
		}
		if missing {
			found = p.test(missingValue{})
			return
		}
		if p.test(v) {
			found = true
			return
		}
		if !p.expand {
			return
		}
		if arr, ok := asArray(v); ok {
			for _, el := range arr {
				if p.test(el) {
					found = true
					return
				}
			}
		}
	})
	return found
}

func parseFilterDoc(filter bson.D) (matcher, error) {
	ms := make(andMatcher, 0, len(filter))
	for _, e := range filter {
		m, err := parseFilterElem(e)
		if err != nil {
			return nil, err
		}
		if m != nil {
			ms = append(ms, m)
		}
	}
	if len(ms) == 1 {
		return ms[0], nil
	}
	return ms, nil
}

func parseFilterElem(e bson.E) (matcher, error) {
	if strings.HasPrefix(e.Key, "$") {
		switch e.Key {
		case "$and", "$or", "$nor":
			return parseLogical(e.Key, e.Value)
		case "$comment":
			return nil, nil
		case "$expr", "$where", "$text", "$jsonSchema", "$alwaysTrue", "$alwaysFalse", "$sampleRate":
			return nil, newError(CodeBadValue, "%s is not supported by the test server", e.Key)
		}
		return nil, newError(CodeBadValue, "unknown top level operator: %s. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.", e.Key)
	}
	parts := splitPath(e.Key)
	if d, ok := e.Value.(bson.D); ok && isOperatorDoc(d) {
		return parseOperators(parts, d)
	}
	if re, ok := e.Value.(bson.Regex); ok {
		return regexMatcher(parts, re.Pattern, re.Options)
	}
	return pathMatcher{parts: parts, expand: true, test: eqTest(e.Value)}, nil
}

// isOperatorDoc reports whether a filter value is an operator document
// ({$gt: 1}) rather than a literal document to compare with.
func isOperatorDoc(d bson.D) bool {
	return len(d) > 0 && strings.HasPrefix(d[0].Key, "$")
}

func parseLogical(op string, v any) (matcher, error) {
	arr, ok := asArray(v)
	if !ok {
		return nil, newError(CodeBadValue, "%s must be an array", op)
	}
	if len(arr) == 0 {
		return nil, newError(CodeBadValue, "$and/$or/$nor must be a nonempty array")
	}
	ms := make([]matcher, 0, len(arr))
	for _, el := range arr {
		d, ok := el.(bson.D)
		if !ok {
			return nil, newError(CodeBadValue, "$or/$and/$nor entries need to be full objects")
		}
		m, err := parseFilterDoc(d)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	switch op {
	case "$and":
		return andMatcher(ms), nil
	case "$or":
		return orMatcher(ms), nil
	}
	return notMatcher{orMatcher(ms)}, nil
}

// parseOperators compiles {$op: value, ...} applied to one path.
func parseOperators(parts []string, ops bson.D) (matcher, error) {
	var ms andMatcher
	var regex, options any
	hasRegex, hasOptions := false, false
	for _, op := range ops {
		switch op.Key {
		case "$regex":
			regex, hasRegex = op.Value, true
			continue
		case "$options":
			options, hasOptions = op.Value, true
			continue
		}
		m, err := parseOperator(parts, op.Key, op.Value)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if hasOptions && !hasRegex {
		return nil, newError(CodeBadValue, "$options needs a $regex")
	}
	if hasRegex {
		m, err := parseRegexOperator(parts, regex, options, hasOptions)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if len(ms) == 1 {
		return ms[0], nil
	}
	return ms, nil
}

func parseOperator(parts []string, op string, v any) (matcher, error) {
	switch op {
	case "$eq":
		return pathMatcher{parts: parts, expand: true, test: eqTest(v)}, nil
	case "$ne":
		return notMatcher{pathMatcher{parts: parts, expand: true, test: eqTest(v)}}, nil
	case "$gt", "$gte", "$lt", "$lte":
		if _, ok := v.(bson.Regex); ok {
			return nil, newError(CodeBadValue, "Can't have RegEx as arg to predicate over field '%s'.", strings.Join(parts, "."))
		}
		return pathMatcher{parts: parts, expand: true, test: cmpTest(op, v)}, nil
	case "$in", "$nin":
		t, err := inTest(op, v)
		if err != nil {
			return nil, err
		}
		m := pathMatcher{parts: parts, expand: true, test: t}
		if op == "$nin" {
			return notMatcher{m}, nil
		}
		return m, nil
	case "$exists":
		m := pathMatcher{parts: parts, test: func(v any) bool {
			_, missing := v.(missingValue)
			return !missing
		}}
		if truthy(v) {
			return m, nil
		}
		return notMatcher{m}, nil
	case "$not":
		return parseNot(parts, v)
	case "$size":
		return parseSize(parts, v)
	case "$type":
		return parseType(parts, v)
	case "$all":
		return parseAll(parts, v)
	case "$elemMatch":
		return parseElemMatch(parts, v)
	}
	return nil, newError(CodeBadValue, "unknown operator: %s", op)
}

// truthy is MongoDB's boolean reading of an operand (numbers: non-zero).
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case nil, bson.Null, bson.Undefined:
		return false
	}
	if n, ok := toNumber(v); ok {
		return compareNumbers(n, number{kind: numInt}) != 0 || n.isNaN()
	}
	return true
}

// eqTest matches values equal to x; a missing field equals null.
func eqTest(x any) valueTest {
	return func(v any) bool {
		if _, ok := v.(missingValue); ok {
			return typeRank(x) == rankNull
		}
		if typeRank(v) != typeRank(x) {
			return false
		}
		return Compare(v, x) == 0
	}
}

// cmpTest implements $gt/$gte/$lt/$lte with MongoDB's type bracketing: only
// values of the operand's canonical type compare, except that MinKey and
// MaxKey operands compare with everything; NaN only equals NaN.
func cmpTest(op string, x any) valueTest {
	xr := typeRank(x)
	return func(v any) bool {
		if _, ok := v.(missingValue); ok {
			v = nil
		}
		vr := typeRank(v)
		if vr != xr && xr != rankMinKey && xr != rankMaxKey {
			return false
		}
		if vr == rankNumber && xr == rankNumber {
			vn, _ := toNumber(v)
			xn, _ := toNumber(x)
			if vn.isNaN() || xn.isNaN() {
				both := vn.isNaN() && xn.isNaN()
				return both && (op == "$gte" || op == "$lte")
			}
		}
		c := Compare(v, x)
		switch op {
		case "$gt":
			return c > 0
		case "$gte":
			return c >= 0
		case "$lt":
			return c < 0
		}
		return c <= 0
	}
}

func inTest(op string, v any) (valueTest, error) {
	arr, ok := asArray(v)
	if !ok {
		return nil, newError(CodeBadValue, "%s needs an array", op)
	}
	tests := make([]valueTest, 0, len(arr))
	for _, el := range arr {
		switch x := el.(type) {
		case bson.Regex:
			t, err := regexTest(x.Pattern, x.Options)
			if err != nil {
				return nil, err
			}
			tests = append(tests, t)
		case bson.D:
			if isOperatorDoc(x) {
				return nil, newError(CodeBadValue, "cannot nest $ under %s", op)
			}
			tests = append(tests, eqTest(x))
		default:
			tests = append(tests, eqTest(x))
		}
	}
	return func(v any) bool {
		for _, t := range tests {
			if t(v) {
				return true
			}
		}
		return false
	}, nil
}

func parseNot(parts []string, v any) (matcher, error) {
	switch x := v.(type) {
	case bson.Regex:
		m, err := regexMatcher(parts, x.Pattern, x.Options)
		if err != nil {
			return nil, err
		}
		return notMatcher{m}, nil
	case bson.D:
		if len(x) == 0 {
			return nil, newError(CodeBadValue, "$not cannot be empty")
		}
		if !isOperatorDoc(x) {
			return nil, newError(CodeBadValue, "unknown operator: %s", x[0].Key)
		}
		m, err := parseOperators(parts, x)
		if err != nil {
			return nil, err
		}
		return notMatcher{m}, nil
	}
	return nil, newError(CodeBadValue, "$not needs a regex or a document")
}

func parseSize(parts []string, v any) (matcher, error) {
	n, ok := toNumber(v)
	if !ok {
		return nil, newError(CodeBadValue, "$size needs a number")
	}
	f := n.float()
	if f != float64(int64(f)) {
		return nil, newError(CodeBadValue, "$size must be a whole number")
	}
	if f < 0 {
		return nil, newError(CodeBadValue, "$size may not be negative")
	}
	size := int(f)
	return pathMatcher{parts: parts, test: func(v any) bool {
		arr, ok := asArray(v)
		return ok && len(arr) == size
	}}, nil
}

func parseAll(parts []string, v any) (matcher, error) {
	arr, ok := asArray(v)
	if !ok {
		return nil, newError(CodeBadValue, "$all needs an array")
	}
	if len(arr) == 0 {
		return orMatcher(nil), nil // matches nothing
	}
	ms := make(andMatcher, 0, len(arr))
	for _, el := range arr {
		if d, ok := el.(bson.D); ok && isOperatorDoc(d) {
			if d[0].Key != "$elemMatch" {
				return nil, newError(CodeBadValue, "no $ expressions in $all")
			}
			m, err := parseElemMatch(parts, d[0].Value)
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
			continue
		}
		if re, ok := el.(bson.Regex); ok {
			m, err := regexMatcher(parts, re.Pattern, re.Options)
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
			continue
		}
		ms = append(ms, pathMatcher{parts: parts, expand: true, test: eqTest(el)})
	}
	return ms, nil
}

// parseElemMatch compiles $elemMatch: some array element matches. Its operand
// is either operators applied to the element itself ({$gt: 1}) or a filter
// applied to element documents ({b: 1}).
func parseElemMatch(parts []string, v any) (matcher, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, newError(CodeBadValue, "$elemMatch needs an Object")
	}
	var elemTest func(el any) bool
	if isOperatorDoc(d) && d[0].Key != "$and" && d[0].Key != "$or" && d[0].Key != "$nor" {
		// Value form: wrap each element as {"": el} and match the operators on "".
		m, err := parseOperators([]string{""}, d)
		if err != nil {
			return nil, err
		}
		elemTest = func(el any) bool {
			return m.matches(bson.D{{Key: "", Value: el}})
		}
	} else {
		m, err := parseFilterDoc(d)
		if err != nil {
			return nil, err
		}
		elemTest = func(el any) bool {
			ed, ok := el.(bson.D)
			return ok && m.matches(ed)
		}
	}
	return pathMatcher{parts: parts, test: func(v any) bool {
		arr, ok := asArray(v)
		if !ok {
			return false
		}
		for _, el := range arr {
			if elemTest(el) {
				return true
			}
		}
		return false
	}}, nil
}
