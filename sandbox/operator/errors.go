package operator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// statusOf is the one place an error code becomes an HTTP status.
func statusOf(code world.Code) int {
	switch code {
	case world.CodeInvalidArgument:
		return http.StatusBadRequest
	case world.CodeNotFound:
		return http.StatusNotFound
	case world.CodeConflict:
		return http.StatusConflict
	case world.CodeForbidden:
		return http.StatusForbidden
	case world.CodeUnauthenticated:
		return http.StatusUnauthorized
	default:
		return http.StatusInternalServerError
	}
}

// writeError is the one error writer of the API: every error, whether a
// handler returned it, the request validator found it or gin could not
// route the request, is answered here, as
// {"error": {"code", "message", "details"}} with the status of its code.
// An error that is not a *world.Error is an internal error: it is logged
// and its text is not shown.
func (s *Server) writeError(c *gin.Context, err error) {
	s.writeErrorStatus(c, 0, err)
}

// writeErrorStatus is writeError with the status forced (0: by code), for
// the one answer whose status no code names: 405.
func (s *Server) writeErrorStatus(c *gin.Context, status int, err error) {
	var we *world.Error
	if !errors.As(err, &we) {
		we = &world.Error{Code: world.CodeInternal, Message: "internal error; the server log has the details"}
	}
	if we.Code == world.CodeInternal {
		s.log.ErrorContext(c.Request.Context(), "internal error",
			"method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	if status == 0 {
		status = statusOf(we.Code)
	}
	body := api.Error{Error: api.ErrorBody{Code: api.ErrorCode(we.Code), Message: we.Message}}
	if len(we.Details) > 0 {
		ds := make([]api.ErrorDetail, len(we.Details))
		for i, d := range we.Details {
			ds[i] = api.ErrorDetail{Field: d.Field, Problem: d.Problem}
		}
		body.Error.Details = &ds
	}
	if c.Writer.Written() {
		// Too late to change the answer; say so in the log at least.
		s.log.ErrorContext(c.Request.Context(), "error after the response was written",
			"method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		c.Abort()
		return
	}
	c.AbortWithStatusJSON(status, body)
}

// NoRoute answers a request no route matches: 404 in the error shape.
// Register installs it when given the engine; mount it yourself otherwise.
func (s *Server) NoRoute(c *gin.Context) {
	s.writeError(c, world.Errorf(world.CodeNotFound, "no route %s %s", c.Request.Method, c.Request.URL.Path))
}

// NoMethod answers a request whose path exists with another method: 405
// in the error shape (gin has set the Allow header).
func (s *Server) NoMethod(c *gin.Context) {
	msg := fmt.Sprintf("method %s is not allowed on %s", c.Request.Method, c.Request.URL.Path)
	if allow := c.Writer.Header().Get("Allow"); allow != "" {
		msg += "; allowed: " + allow
	}
	s.writeErrorStatus(c, http.StatusMethodNotAllowed, world.Errorf(world.CodeNotFound, "%s", msg))
}

// paramName finds the parameter the generated wrapper names in its errors
// ("Invalid format for parameter id: …", "Query argument limit is
// required…").
func paramName(msg string) string {
	for _, marker := range []string{"parameter ", "argument "} {
		if _, rest, ok := strings.Cut(msg, marker); ok {
			rest = strings.TrimLeft(rest, "'")
			end := strings.IndexFunc(rest, func(r rune) bool {
				return !(r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r))
			})
			if end < 0 {
				end = len(rest)
			}
			if end > 0 {
				return rest[:end]
			}
		}
	}
	return "parameter"
}

// parameterError is the generated gin wrapper's ErrorHandler: a path or
// query parameter could not be bound. The request validator normally
// answers these first; this is the backstop.
func (s *Server) parameterError(c *gin.Context, err error, _ int) {
	s.writeError(c, world.Invalid(paramName(err.Error()), "%v", err))
}

// requestBodyError is the strict server's RequestErrorHandlerFunc: the
// body could not be decoded into the operation's request type.
func (s *Server) requestBodyError(c *gin.Context, err error) {
	s.writeError(c, bodyError(err))
}

// responseError is the strict server's ResponseErrorHandlerFunc: the
// answer could not be written. It is a bug, hence internal.
func (s *Server) responseError(c *gin.Context, err error) {
	s.writeError(c, fmt.Errorf("write response: %w", err))
}

// bodyError explains a JSON decoding failure.
func bodyError(err error) *world.Error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return world.Errorf(world.CodeInvalidArgument, "request body is required")
	case errors.As(err, &typ) && typ.Field != "":
		return world.Invalid(typ.Field, "must be %s, got JSON %s", typ.Type, typ.Value)
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return world.Errorf(world.CodeInvalidArgument, "request body is not valid JSON: %v", err)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		f := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return world.Invalid(f, "is not a known field")
	}
	return world.Errorf(world.CodeInvalidArgument, "request body: %v", err)
}
