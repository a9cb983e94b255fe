package mquery

import (
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// regexTest matches strings (and symbols) against a pattern with MongoDB
// options i, m, s and x; a stored regex value matches when it is identical.
// Go's RE2 syntax is close to, but not the same as, PCRE.
func regexTest(pattern, options string) (valueTest, error) {
	flags := ""
	for _, o := range options {
		switch o {
		case 'i', 'm', 's':
			flags += string(o)
		case 'x':
			pattern = stripExtended(pattern)
		case 'u':
		default:
			return nil, newError(51108, "invalid flag in regex options: %c", o)
		}
	}
	expr := pattern
	if flags != "" {
		expr = "(?" + flags + ")" + pattern
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, newError(51091, "Regular expression is invalid: %v", err)
	}
	want := bson.Regex{Pattern: pattern, Options: options}
	return func(v any) bool {
		switch x := v.(type) {
		case string:
			return re.MatchString(x)
		case bson.Symbol:
			return re.MatchString(string(x))
		case bson.Regex:
			return x.Pattern == want.Pattern && x.Options == want.Options
		}
		return false
	}, nil
}

// stripExtended drops unescaped whitespace and #-comments (the x option).
func stripExtended(p string) string {
	var b strings.Builder
	inComment := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case inComment:
			if c == '\n' {
				inComment = false
			}
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
		case c == '#':
			inComment = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func regexMatcher(parts []string, pattern, options string) (matcher, error) {
	t, err := regexTest(pattern, options)
	if err != nil {
		return nil, err
	}
	return pathMatcher{parts: parts, expand: true, test: t}, nil
}

// parseRegexOperator compiles {$regex: ..., $options: ...}.
func parseRegexOperator(parts []string, regex, options any, hasOptions bool) (matcher, error) {
	opts := ""
	if hasOptions {
		s, ok := options.(string)
		if !ok {
			return nil, newError(CodeBadValue, "$options has to be a string")
		}
		opts = s
	}
	switch r := regex.(type) {
	case string:
		return regexMatcher(parts, r, opts)
	case bson.Regex:
		if hasOptions && r.Options != "" {
			return nil, newError(CodeBadValue, "options set in both $regex and $options")
		}
		if !hasOptions {
			opts = r.Options
		}
		return regexMatcher(parts, r.Pattern, opts)
	}
	return nil, newError(CodeBadValue, "$regex has to be a string")
}
