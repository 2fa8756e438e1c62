package operator

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

// apiPrefix is where requests are validated against openapi.yaml.
const apiPrefix = "/api/v1/"

// maxRequestBody bounds what a JSON request body may weigh; the largest
// documented one (integration settings) is a few kilobytes.
const maxRequestBody = 1 << 20

// maxImportBody bounds a JSON Lines import: a full default retention of
// exchanges with small bodies.
const maxImportBody = 256 << 20

// ndjson is the media type of JSON Lines exports and imports.
const ndjson = "application/x-ndjson"

// validateRequest checks a request under /api/v1 against its operation in
// openapi.yaml (path and query parameters, body type, required fields,
// unknown fields, bounds) before the handler runs, and answers
// invalid_argument naming every bad field when it does not match.
func (s *Server) validateRequest(c *gin.Context) {
	req := c.Request
	if !strings.HasPrefix(req.URL.Path, apiPrefix) {
		return
	}
	route, params, err := s.spec.router.FindRoute(req)
	if err != nil {
		// gin routed it, so the document has it; nothing to check against
		// otherwise. The route test keeps the two in step.
		return
	}
	route = forRequest(route, s.spec.as30)
	// One body type per operation: JSON everywhere but the import.
	want := "application/json"
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil && rb.Value.Content.Get(ndjson) != nil {
		want = ndjson
	}
	if hasBody(req) {
		limit := int64(maxRequestBody)
		if want == ndjson {
			limit = maxImportBody
		}
		req.Body = http.MaxBytesReader(c.Writer, req.Body, limit)
	}
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil && hasBody(req) {
		ct := req.Header.Get("Content-Type")
		if ct == "" {
			// A body without a type is what the operation takes.
			req.Header.Set("Content-Type", want)
		} else if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != want {
			s.writeError(c, world.Errorf(world.CodeInvalidArgument, "request body must be %s, got Content-Type %q", want, ct))
			return
		}
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			// A JSON Lines body is checked line by line by the handler,
			// which can name the line; here it would be one opaque string.
			ExcludeRequestBody: want == ndjson,
		},
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		s.writeError(c, invalidRequest(err))
	}
}

func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// forRequest is route as part of the document read as 3.0 (see loadSpec).
func forRequest(route *routers.Route, as30 *openapi3.T) *routers.Route {
	r := *route
	r.Spec = as30
	return &r
}

// invalidRequest turns what openapi3filter found into one invalid_argument
// error whose details name each field: the parameter's name, or the JSON
// path of the body field ("resources.user_licenses").
func invalidRequest(err error) *world.Error {
	var details []world.Detail
	var other []string
	for _, e := range flatten(err) {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			other = append(other, e.Error())
			continue
		}
		switch {
		case re.Parameter != nil:
			details = append(details, parameterDetails(re)...)
		case re.RequestBody != nil:
			var (
				pe  *openapi3filter.ParseError
				big *http.MaxBytesError
			)
			switch {
			case errors.As(re.Err, &big):
				return world.Errorf(world.CodeInvalidArgument, "request body is larger than %d bytes", big.Limit)
			case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
				return world.Errorf(world.CodeInvalidArgument, "request body is required")
			case errors.As(re.Err, &pe):
				return world.Errorf(world.CodeInvalidArgument, "request body is not valid JSON: %v", rootCause(pe))
			}
			ds := schemaDetails("", re.Err)
			if len(ds) == 0 {
				other = append(other, "request body: "+re.Error())
			}
			details = append(details, ds...)
		default:
			other = append(other, re.Error())
		}
	}
	var msgs []string
	for _, d := range details {
		msgs = append(msgs, d.Field+": "+d.Problem)
	}
	msgs = append(msgs, other...)
	if len(msgs) == 0 {
		msgs = []string{err.Error()}
	}
	return &world.Error{
		Code:    world.CodeInvalidArgument,
		Message: "invalid request: " + strings.Join(msgs, "; "),
		Details: details,
	}
}

// parameterDetails describes a bad path or query parameter.
func parameterDetails(re *openapi3filter.RequestError) []world.Detail {
	name := re.Parameter.Name
	if ds := schemaDetails(name, re.Err); len(ds) > 0 {
		return ds
	}
	var pe *openapi3filter.ParseError
	problem := re.Reason
	switch {
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		problem = "is required"
	case errors.As(re.Err, &pe):
		problem = "must be " + typeName(re.Parameter.Schema) + fmt.Sprintf(", got %q", fmt.Sprint(pe.Value))
	case problem == "" && re.Err != nil:
		problem = re.Err.Error()
	}
	return []world.Detail{{Field: name, Problem: problem}}
}

func typeName(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil || ref.Value.Type == nil || len(*ref.Value.Type) == 0 {
		return "valid"
	}
	return article((*ref.Value.Type)[0])
}

// flatten lists the errors of the top-level openapi3.MultiErrors, without
// looking inside them.
func flatten(err error) []error {
	me, ok := err.(openapi3.MultiError)
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range me {
		out = append(out, flatten(e)...)
	}
	return out
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// schemaDetails names each field a schema error is about. prefix is the
// parameter name when the value is a parameter's.
func schemaDetails(prefix string, err error) []world.Detail {
	var out []world.Detail
	for _, se := range leaves(err, nil) {
		out = append(out, schemaDetail(prefix, se))
	}
	return slices.CompactFunc(out, func(a, b world.Detail) bool { return a == b })
}

// leaves collects the innermost SchemaErrors of err: a SchemaError whose
// origin holds other SchemaErrors only groups them.
func leaves(err error, out []*openapi3.SchemaError) []*openapi3.SchemaError {
	switch e := err.(type) {
	case nil:
	case openapi3.MultiError:
		for _, x := range e {
			out = leaves(x, out)
		}
	case *openapi3.SchemaError:
		if sub := leaves(e.Origin, nil); len(sub) > 0 {
			return append(out, sub...)
		}
		return append(out, e)
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			out = leaves(x, out)
		}
	case interface{ Unwrap() error }:
		out = leaves(e.Unwrap(), out)
	}
	return out
}

// builtinProperty reads the property a reason of kin-openapi's own
// validator names, `property "colour" is unsupported` or `… is missing`,
// and which of the two it is.
func builtinProperty(reason string) (name, what string, ok bool) {
	rest, ok := strings.CutPrefix(reason, `property "`)
	if !ok {
		return "", "", false
	}
	name, what, ok = strings.Cut(rest, `" is `)
	if !ok || (what != "unsupported" && what != "missing") {
		return "", "", false
	}
	return name, what, true
}

// schemaDetail names the field of one schema error and says what is wrong
// with it, in the same words whichever of kin-openapi's two validators
// (its own, or JSON Schema 2020-12 for some 3.1 schemas) found it.
func schemaDetail(prefix string, se *openapi3.SchemaError) world.Detail {
	path := se.JSONPointer()
	if prefix != "" {
		path = append([]string{prefix}, path...)
	}
	problem := se.Reason
	var ve *jsonschema.ValidationError
	if errors.As(se, &ve) {
		for len(ve.Causes) == 1 {
			ve = ve.Causes[0]
		}
		var p string
		path, p = describeKind(path, ve.ErrorKind)
		problem = p
	} else if name, what, ok := builtinProperty(se.Reason); ok {
		if len(path) == 0 || path[len(path)-1] != name {
			path = append(path, name)
		}
		problem = problemOf(what)
	}
	field := strings.Join(path, ".")
	if field == "" {
		field = "body"
	}
	return world.Detail{Field: field, Problem: problem}
}

func problemOf(builtin string) string {
	if builtin == "missing" {
		return "is required"
	}
	return "is not a known field"
}

// describeKind words an error of the JSON Schema 2020-12 validator like
// kin-openapi's own validator words it.
func describeKind(path []string, k jsonschema.ErrorKind) ([]string, string) {
	switch k := k.(type) {
	case *kind.Required:
		return append(path, k.Missing...), problemOf("missing")
	case *kind.AdditionalProperties:
		return append(path, k.Properties...), problemOf("unsupported")
	case *kind.Type:
		want := strings.Join(k.Want, " or ")
		if len(k.Want) == 1 {
			want = article(want)
		}
		return path, "value must be " + want
	case *kind.Minimum:
		return path, "number must be at least " + k.Want.RatString()
	case *kind.Maximum:
		return path, "number must be at most " + k.Want.RatString()
	case *kind.Enum:
		want, _ := json.Marshal(k.Want)
		return path, "value is not one of the allowed values " + string(want)
	}
	return path, k.LocalizedString(message.NewPrinter(language.English))
}

func article(t string) string {
	switch t {
	case "integer", "array", "object":
		return "an " + t
	}
	return "a " + t
}
