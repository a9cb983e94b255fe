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
			if x[0].Key == "$literal" {
				return literalExpr{x[0].Value}, nil
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
