package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/apsandbox/apsandbox"
	"github.com/apsandbox/apsandbox/sandbox/journal"
)

// loadDoc loads and validates the embedded openapi.yaml, webhooks
// included.
func loadDoc() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(apsandbox.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
}

// loadSpec parses and validates the embedded document once per process:
// it takes tens of milliseconds, and an in-process test sandbox is built
// in a few. The spec is read-only, so servers share it.
var loadSpec = sync.OnceValues(parseSpec)

func parseSpec() (*spec, error) {
	doc, err := loadDoc()
	if err != nil {
		return nil, err
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route openapi.yaml: %w", err)
	}
	// For a 3.1 document kin-openapi compiles a JSON Schema 2020-12
	// validator on every call, for every parameter and body: a quarter
	// of the CPU of an operation. The request schemas use nothing that
	// 3.0 lacks (the 3.1-only type lists are in answers), so requests are
	// checked against the same document read as 3.0, whose validator
	// works on the loaded schemas directly. TestRequestSchemasAre30 keeps
	// the request schemas that way; answers (checked in tests) keep 3.1.
	as30 := *doc
	as30.OpenAPI = "3.0.3"
	return &spec{doc: doc, router: r, as30: &as30}, nil
}

// ResponseValidator checks answers of the operator API against
// openapi.yaml, and bodies sent to vendors against its webhooks. Tests use
// it to prove that what the sandbox says is what the document says. It is
// safe for concurrent use.
type ResponseValidator struct {
	spec *spec
}

var registerNDJSON sync.Once

// decodeNDJSON reads a JSON Lines export for response validation. OpenAPI
// cannot describe one line's schema, so the check is stronger than a
// schema: the body must read back through journal.ReadJSONL, which is
// what an import does. A valid export is therefore an importable one.
func decodeNDJSON(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	if _, err := journal.ReadJSONL(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("not an importable JSON Lines export: %w", err)
	}
	return string(raw), nil
}

// NewResponseValidator loads the embedded openapi.yaml.
func NewResponseValidator() (*ResponseValidator, error) {
	registerNDJSON.Do(func() { openapi3filter.RegisterBodyDecoder(ndjson, decodeNDJSON) })
	sp, err := loadSpec()
	if err != nil {
		return nil, err
	}
	return &ResponseValidator{spec: sp}, nil
}

// Validate checks one answer to req: its status must be documented for the
// operation (or fall under its default response), and its content type and
// body must match the documented ones. An answer to a request no operation
// matches (an unknown route) must be a 404 or 405 in the error shape.
// req's body is not read.
func (v *ResponseValidator) Validate(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.spec.router.FindRoute(req)
	if err != nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("%s %s matches no operation of openapi.yaml, yet was answered %d (want 404 or 405)", req.Method, req.URL.Path, status)
		}
		if err := checkJSONContentType(header); err != nil {
			return err
		}
		return v.spec.validateSchema("Error", body)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	if route.Operation.OperationID == "getOpenAPI" && status == http.StatusOK {
		// No body decoder exists for text/yaml; the body must be the
		// document itself.
		opts.ExcludeResponseBody = true
		if !bytes.Equal(body, apsandbox.OpenAPI) {
			return errors.New("GET /openapi.yaml: the body is not the embedded openapi.yaml")
		}
	}
	// ValidateResponse may look at the request; never let it read the
	// caller's (already consumed) body.
	r := req.Clone(req.Context())
	r.Body = http.NoBody
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: params,
			Route:      route,
			Options:    opts,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: opts,
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return fmt.Errorf("%s %s → %d (%s): %w", req.Method, route.Path, status, route.Operation.OperationID, err)
	}
	return nil
}

// ValidateWebhookBody checks a body sent to the vendor for the given event
// (as vendorapi names it, e.g. "subscription.renew") against the request
// body the webhooks section of openapi.yaml documents for that event.
func (v *ResponseValidator) ValidateWebhookBody(event string, body []byte) error {
	item := v.spec.doc.Webhooks[event]
	if item == nil || item.Post == nil {
		return fmt.Errorf("openapi.yaml documents no webhook %q", event)
	}
	empty := len(bytes.TrimSpace(body)) == 0
	rb := item.Post.RequestBody
	if rb == nil || rb.Value == nil {
		if !empty {
			return fmt.Errorf("webhook %s: documented without a body, but one was sent", event)
		}
		return nil
	}
	if empty {
		if rb.Value.Required {
			return fmt.Errorf("webhook %s: the body is required but none was sent", event)
		}
		return nil
	}
	mt := rb.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return fmt.Errorf("webhook %s: openapi.yaml documents no application/json body", event)
	}
	if err := validateJSON(mt.Schema.Value, body); err != nil {
		return fmt.Errorf("webhook %s: %w", event, err)
	}
	return nil
}

// ValidateWebhookBody checks a body sent to the vendor for the given event
// against openapi.yaml's webhooks; see ResponseValidator.ValidateWebhookBody.
// It loads the document on every call: a test validating many bodies should
// keep a ResponseValidator instead.
func ValidateWebhookBody(event string, body []byte) error {
	v, err := NewResponseValidator()
	if err != nil {
		return err
	}
	return v.ValidateWebhookBody(event, body)
}

// validateSchema checks a JSON body against a component schema.
func (sp *spec) validateSchema(name string, body []byte) error {
	ref := sp.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("openapi.yaml has no schema %q", name)
	}
	if err := validateJSON(ref.Value, body); err != nil {
		return fmt.Errorf("not a %s: %w", name, err)
	}
	return nil
}

func validateJSON(schema *openapi3.Schema, body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("the body is not valid JSON: %w", err)
	}
	return schema.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
}

func checkJSONContentType(h http.Header) error {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return fmt.Errorf("content type %q, want application/json", h.Get("Content-Type"))
	}
	return nil
}
