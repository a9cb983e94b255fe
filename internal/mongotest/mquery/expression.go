package mquery

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// expression is an aggregation expression. eval returns ok=false for a
// missing value (a field path that does not resolve, or $$REMOVE).
type expression interface {
	eval(root bson.D) (v any, ok bool)
}

// literalExpr is a constant.
type literalExpr struct{ v any }

func (l literalExpr) eval(bson.D) (any, bool) { return deepCopy(l.v), true }

// fieldPathExpr is "$a.b" ("$$ROOT.a.b" and "$$CURRENT.a.b" too).
type fieldPathExpr struct{ parts []string }

func (f fieldPathExpr) eval(root bson.D) (any, bool) {
	if len(f.parts) == 0 {
		return copyDoc(root), true
	}
	v, ok := fieldPathValue(root, f.parts)
	if !ok {
		return nil, false
	}
	return deepCopy(v), true
}

// removeExpr is $$REMOVE.
type removeExpr struct{}

func (removeExpr) eval(bson.D) (any, bool) { return nil, false }

// objectExpr builds a document; fields whose expression is missing are left out.
type objectExpr struct {
	keys  []string
	exprs []expression
}

func (o objectExpr) eval(root bson.D) (any, bool) {
	out := bson.D{}
	for i, k := range o.keys {
		if v, ok := o.exprs[i].eval(root); ok {
			out = append(out, bson.E{Key: k, Value: v})
		}
	}
	return out, true
}

// arrayExpr builds an array; missing elements become null.
type arrayExpr []expression

func (a arrayExpr) eval(root bson.D) (any, bool) {
	out := make(bson.A, len(a))
	for i, e := range a {
		v, _ := e.eval(root)
		out[i] = v
	}
	return out, true
}

// fieldPathValue resolves an aggregation field path: arrays met on the way
// map the rest of the path over their elements (missing results dropped).
func fieldPathValue(v any, parts []string) (any, bool) {
	if len(parts) == 0 {
		return v, true
	}
	switch c := v.(type) {
	case bson.D:
		child, ok := field(c, parts[0])
		if !ok {
			return nil, false
		}
		return fieldPathValue(child, parts[1:])
	case bson.A, []any:
		arr, _ := asArray(c)
		out := bson.A{}
		for _, el := range arr {
			switch el.(type) {
			case bson.D, bson.A, []any:
				if r, ok := fieldPathValue(el, parts); ok {
					out = append(out, r)
				}
			}
		}
		return out, true
	}
	return nil, false
}

// parseExpression compiles an aggregation expression: "$path", "$$ROOT",
// "$$CURRENT", "$$REMOVE", {$literal: v}, documents and arrays of
// expressions, and constants. Other operators are not implemented.
func parseExpression(v any) (expression, error) {
	switch x := v.(type) {
	case string:
		if !strings.HasPrefix(x, "$") {
			return literalExpr{x}, nil
		}
		return parseFieldPath(x)
	case bson.D:
		if len(x) > 0 && strings.HasPrefix(x[0].Key, "$") {
			if len(x) > 1 {
				return nil, newError(15983, "an expression specification must contain exactly one field, the name of the expression. Found %d fields in %s", len(x), formatValue(x))
			}
			switch x[0].Key {
			case "$literal":
				return literalExpr{x[0].Value}, nil
			case "$getField", "$setField", "$unsetField":
				return parseFieldOperator(x[0].Key, x[0].Value)
			}
			return nil, newError(168, "Unrecognized expression '%s'", x[0].Key)
		}
		o := objectExpr{}
		for _, e := range x {
			if strings.HasPrefix(e.Key, "$") || strings.Contains(e.Key, ".") {
				return nil, newError(16412, "FieldPath field names may not contain '.' or start with '$': %s", e.Key)
			}
			sub, err := parseExpression(e.Value)
			if err != nil {
				return nil, err
			}
			o.keys = append(o.keys, e.Key)
			o.exprs = append(o.exprs, sub)
		}
		return o, nil
	case bson.A, []any:
		arr, _ := asArray(x)
		out := make(arrayExpr, 0, len(arr))
		for _, el := range arr {
			sub, err := parseExpression(el)
			if err != nil {
				return nil, err
			}
			out = append(out, sub)
		}
		return out, nil
	}
	return literalExpr{v}, nil
}

func parseFieldPath(s string) (expression, error) {
	if strings.HasPrefix(s, "$$") {
		name, rest, _ := strings.Cut(s[2:], ".")
		switch name {
		case "ROOT", "CURRENT":
			if rest == "" {
				return fieldPathExpr{}, nil
			}
			return fieldPathExpr{parts: splitPath(rest)}, nil
		case "REMOVE":
			return removeExpr{}, nil
		}
		return nil, newError(17276, "Use of undefined variable: %s", name)
	}
	path := s[1:]
	if path == "" {
		return nil, newError(16872, "'$' by itself is not a valid FieldPath")
	}
	parts := splitPath(path)
	for _, p := range parts {
		if p == "" {
			return nil, newError(15998, "FieldPath field names may not be empty strings.")
		}
	}
	return fieldPathExpr{parts: parts}, nil
}

// fieldOpExpr is $getField, $setField or $unsetField: a field named
// literally (dots and a leading $ are part of the name).
type fieldOpExpr struct {
	op    string
	field string
	input expression
	value expression // $setField
}

func (f fieldOpExpr) eval(root bson.D) (any, bool) {
	in, ok := f.input.eval(root)
	doc, isDoc := in.(bson.D)
	if f.op == "$getField" {
		if !ok || !isDoc {
			return nil, false
		}
		v, found := field(doc, f.field)
		return deepCopy(v), found
	}
	if !ok || !isDoc {
		return nil, true // null input gives null
	}
	out := make(bson.D, 0, len(doc)+1)
	var newVal any
	set := false
	if f.op == "$setField" {
		newVal, set = f.value.eval(root)
	}
	replaced := false
	for _, e := range doc {
		if e.Key != f.field {
			out = append(out, e)
			continue
		}
		if set {
			out = append(out, bson.E{Key: e.Key, Value: newVal})
		}
		replaced = true
	}
	if set && !replaced {
		out = append(out, bson.E{Key: f.field, Value: newVal})
	}
	return out, true
}

func parseFieldOperator(op string, arg any) (expression, error) {
	f := fieldOpExpr{op: op, input: fieldPathExpr{}}
	spec, ok := arg.(bson.D)
	if !ok {
		name, isStr := arg.(string)
		if op != "$getField" || !isStr {
			return nil, newError(4161100, "%s only supports an object as its argument", op)
		}
		f.field = name
		return f, nil
	}
	hasValue := false
	for _, e := range spec {
		switch e.Key {
		case "field":
			name, isStr := e.Value.(string)
			if !isStr {
				if lit, isDoc := e.Value.(bson.D); isDoc && len(lit) == 1 && lit[0].Key == "$literal" {
					name, isStr = lit[0].Value.(string)
				}
			}
			if !isStr {
				return nil, newError(4161106, "%s requires 'field' to evaluate to type String", op)
			}
			f.field = name
		case "input":
			in, err := parseExpression(e.Value)
			if err != nil {
				return nil, err
			}
			f.input = in
		case "value":
			if op != "$setField" {
				return nil, newError(4161103, "%s found an unknown argument: value", op)
			}
			v, err := parseExpression(e.Value)
			if err != nil {
				return nil, err
			}
			f.value, hasValue = v, true
		default:
			return nil, newError(4161101, "%s found an unknown argument: %s", op, e.Key)
		}
	}
	if f.field == "" && op != "$getField" {
		return nil, newError(4161102, "%s requires 'field' to be specified", op)
	}
	if op == "$setField" && !hasValue {
		return nil, newError(4161109, "$setField requires 'value' to be specified")
	}
	return f, nil
}
