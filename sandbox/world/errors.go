package world

import (
	"errors"
	"fmt"
)

// Code classifies an error for the operator API; the operator package maps
// each code to an HTTP status in one place.
type Code string

// The closed set of error codes.
const (
	CodeInvalidArgument Code = "invalid_argument"
	CodeNotFound        Code = "not_found"
	CodeConflict        Code = "conflict"
	CodeForbidden       Code = "forbidden"
	CodeUnauthenticated Code = "unauthenticated"
	CodeInternal        Code = "internal"
)

// Detail names one bad field of a request.
type Detail struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// Error is the one error shape of the sandbox. Domain code returns it so
// that every layer above can tell a bad request from a refused operation
// from a bug without parsing strings.
type Error struct {
	Code    Code
	Message string
	Details []Detail
}

func (e *Error) Error() string { return e.Message }

// Errorf makes an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is an invalid_argument error naming the field at fault.
func Invalid(field, format string, args ...any) *Error {
	p := fmt.Sprintf(format, args...)
	return &Error{
		Code:    CodeInvalidArgument,
		Message: field + ": " + p,
		Details: []Detail{{Field: field, Problem: p}},
	}
}

// NotFound reports a missing entity by kind and id.
func NotFound(kind string, id any) *Error {
	return Errorf(CodeNotFound, "%s %v not found", kind, id)
}

// ErrorCode returns the code of err, or CodeInternal when err is not an
// *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
