package mquery

import "fmt"

// Error is a MongoDB-shaped command error (code, codeName, errmsg).
type Error struct {
	Code     int32
	CodeName string
	Msg      string
}

func (e *Error) Error() string { return e.CodeName + ": " + e.Msg }

// MongoDB error codes used by this package (names as the server reports them).
const (
	CodeBadValue                  = 2
	CodeFailedToParse             = 9
	CodeTypeMismatch              = 14
	CodePathNotViable             = 28
	CodeConflictingUpdateOperator = 40
	CodeDollarPrefixedFieldName   = 52
	CodeEmptyFieldName            = 56
	CodeImmutableField            = 66
	CodeInvalidOptions            = 72
	CodeInvalidPipelineOperator   = 168
)

var codeNames = map[int32]string{
	CodeBadValue:                  "BadValue",
	CodeFailedToParse:             "FailedToParse",
	CodeTypeMismatch:              "TypeMismatch",
	CodePathNotViable:             "PathNotViable",
	CodeConflictingUpdateOperator: "ConflictingUpdateOperators",
	CodeDollarPrefixedFieldName:   "DollarPrefixedFieldName",
	CodeEmptyFieldName:            "EmptyFieldName",
	CodeImmutableField:            "ImmutableField",
	CodeInvalidOptions:            "InvalidOptions",
	CodeInvalidPipelineOperator:   "InvalidPipelineOperator",
}

// newError builds an *Error; codes without a name of their own are reported
// as "Location<code>", as the server does.
func newError(code int32, format string, args ...any) *Error {
	name, ok := codeNames[code]
	if !ok {
		name = fmt.Sprintf("Location%d", code)
	}
	return &Error{Code: code, CodeName: name, Msg: fmt.Sprintf(format, args...)}
}
