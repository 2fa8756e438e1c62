// Package examplevendor is a complete reference vendor service: it
// implements every endpoint ActivePlatform calls, correctly and in memory,
// so that demos have something to talk to and the sandbox's end-to-end
// tests exercise real HTTP. Faults (refusals, slowness) can be switched on
// per endpoint, from flags or at run time through /_control/, to show how
// the platform reacts to a vendor that misbehaves.
//
// Everything is deterministic: vendor ids come from counters ("vs-000001",
// "vu-000001") and usage and consumption are derived from the ordered
// quantities, so a test can predict every answer.
package examplevendor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxBody caps a request body: the platform's bodies are a few kilobytes,
// and a test double must not be the thing that runs out of memory.
const maxBody = 1 << 20

// Config configures a vendor. The zero Config is a well-behaved vendor.
type Config struct {
	// Faults are armed when the vendor starts, in order; a later fault on
	// the same endpoint replaces an earlier one.
	Faults []Fault
	// MaxQuantity caps the quantity of a resource key, as a service with a
	// hard limit would: resource validation denies more, and create,
	// update and renew refuse it. Keys not listed are unlimited.
	MaxQuantity map[string]int64
	// OrderAttributes is what /order/attributes returns; nil means one
	// required "domain" string attribute.
	OrderAttributes []OrderAttribute
}

// Validate reports the first invalid fault or limit.
func (c Config) Validate() error {
	for _, f := range c.Faults {
		if err := f.Validate(); err != nil {
			return err
		}
	}
	for k, n := range c.MaxQuantity {
		if n < 0 {
			return fmt.Errorf("max quantity of %q is negative: %d", k, n)
		}
	}
	return nil
}

// OrderAttribute is one attribute definition returned by /order/attributes.
type OrderAttribute struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Values   []string `json:"values"`
}

// Request is one request the vendor received, as the control API lists it.
type Request struct {
	// Seq numbers requests from 1 in arrival order; it keeps counting
	// across ClearRequests so that records are never confused.
	Seq    int         `json:"seq"`
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Query  string      `json:"query"`
	Header http.Header `json:"headers"`
	// Body is the JSON body as received; a body that is not JSON is kept
	// as a JSON string, so that nothing the platform sent is lost.
	Body json.RawMessage `json:"body,omitempty"`
	// Status is what the vendor answered; 0 while the request is in flight
	// or when the caller went away before the answer.
	Status int `json:"status"`
}

// Vendor is the in-memory vendor service. It is safe for concurrent use.
type Vendor struct {
	mu       sync.Mutex
	cfg      Config
	faults   []Fault
	requests []*Request
	seq      int
	nextSub  int                      // last subscription id number
	nextUser int                      // last user id number
	subs     []*Subscription          // in creation order
	subByID  map[string]*Subscription // vendor id → record
	byOrigin map[string]string        // ap_guid + "\x00" + platform id → vendor id
	users    []*User
	userByID map[string]*User
}

// New returns a vendor with cfg's faults armed. It panics when cfg is
// invalid (see Config.Validate): configs are written by programmers or
// built from ParseFault, which already validates.
func New(cfg Config) *Vendor {
	if err := cfg.Validate(); err != nil {
		panic("examplevendor.New: " + err.Error())
	}
	v := &Vendor{cfg: cfg}
	v.cfg.MaxQuantity = cloneMap(cfg.MaxQuantity)
	if v.cfg.OrderAttributes == nil {
		v.cfg.OrderAttributes = []OrderAttribute{{Key: "domain", Label: "Domain", Type: "string", Required: true}}
	}
	v.resetLocked()
	for _, f := range cfg.Faults {
		v.armLocked(f)
	}
	return v
}

// resetLocked forgets every subscription, user, request and fault.
func (v *Vendor) resetLocked() {
	v.faults, v.requests = nil, nil
	v.subs, v.subByID, v.byOrigin = nil, map[string]*Subscription{}, map[string]string{}
	v.users, v.userByID = nil, map[string]*User{}
}

// Reset forgets every subscription, user, recorded request and fault, so
// that one running vendor can serve several independent demos or tests.
// Ids keep counting, so ids from before the reset are never reused.
func (v *Vendor) Reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.resetLocked()
}

// SetFault arms f, replacing any fault on the same endpoint.
func (v *Vendor) SetFault(f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.armLocked(f)
	return nil
}

func (v *Vendor) armLocked(f Fault) {
	f = f.normalized()
	v.faults = slices.DeleteFunc(v.faults, func(g Fault) bool { return g.Endpoint == f.Endpoint })
	v.faults = append(v.faults, f)
}

// ClearFaults disarms every fault.
func (v *Vendor) ClearFaults() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults = nil
}

// ClearFault disarms the fault on one endpoint, if any.
func (v *Vendor) ClearFault(endpoint string) {
	endpoint = strings.Trim(endpoint, "/")
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults = slices.DeleteFunc(v.faults, func(g Fault) bool { return g.Endpoint == endpoint })
}

// Faults lists the armed faults; Times is what is left of each.
func (v *Vendor) Faults() []Fault {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Fault{}, v.faults...)
}

// Requests returns every request received, oldest first.
func (v *Vendor) Requests() []Request {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Request, 0, len(v.requests))
	for _, r := range v.requests {
		c := *r
		c.Header = r.Header.Clone()
		c.Body = slices.Clone(r.Body)
		out = append(out, c)
	}
	return out
}

// ClearRequests forgets the recorded requests.
func (v *Vendor) ClearRequests() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.requests = nil
}

// Handler serves the vendor endpoints at their documented paths (all
// POST, see Endpoints) and the control API, whose errors use the same task
// envelope:
//
//	GET    /_control/faults                      [Fault…] as {"endpoint","status","message","delay_ms","times"}
//	POST   /_control/faults                      arm one Fault (replaces the endpoint's); answers it
//	DELETE /_control/faults[?endpoint=E]         disarm all, or E's
//	GET    /_control/requests                    [Request…] oldest first
//	DELETE /_control/requests                    forget them
//	GET    /_control/subscriptions[/{id}]        [Subscription…] or one
//	PUT    /_control/subscriptions/{id}/usage    {"key": n, …} sets usage; answers the Subscription
//	GET    /_control/users                       [User…]
//	POST   /_control/reset                       forget all state, requests and faults
func (v *Vendor) Handler() http.Handler {
	mux := http.NewServeMux()
	v.routeControl(mux)
	mux.HandleFunc("/", v.serveVendor)
	return mux
}

// call is one decoded vendor request.
type call struct {
	endpoint   string
	apGUID     string
	resellerID string
	body       []byte
}

// reply is an endpoint's answer.
type reply struct {
	status int
	body   any
}

func ok(status int, body any) reply { return reply{status, body} }

// fail answers with the documented task envelope.
func fail(status int, format string, args ...any) reply {
	return reply{status, taskEnvelope(fmt.Sprintf(format, args...))}
}

type envelope struct {
	Task struct {
		ErrorMessage string `json:"error_message"`
	} `json:"task"`
}

func taskEnvelope(msg string) envelope {
	var e envelope
	e.Task.ErrorMessage = msg
	return e
}

// serveVendor records the request, applies any fault, checks the
// transport conventions and runs the endpoint.
func (v *Vendor) serveVendor(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_control/") {
		// Control calls are not the platform's: never recorded.
		writeJSON(w, http.StatusNotFound, taskEnvelope(fmt.Sprintf("no control route %s %s", r.Method, r.URL.Path)))
		return
	}
	raw, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	endpoint := strings.Trim(r.URL.Path, "/")
	rec := &Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: recordedBody(raw)}

	v.mu.Lock()
	v.seq++
	rec.Seq = v.seq
	v.requests = append(v.requests, rec)
	fault, faulty := v.takeFaultLocked(endpoint, r.Method)
	v.mu.Unlock()

	answer := func(rep reply) {
		v.mu.Lock()
		rec.Status = rep.status
		v.mu.Unlock()
		writeJSON(w, rep.status, rep.body)
	}
	switch {
	case !knownEndpoint(endpoint):
		answer(fail(http.StatusNotFound, "unknown endpoint %s", r.URL.Path))
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		answer(fail(http.StatusMethodNotAllowed, "%s takes POST, not %s", r.URL.Path, r.Method))
		return
	}
	if faulty && fault.Delay > 0 && !sleep(r.Context(), fault.Delay) {
		// The platform gave up: do nothing, as its retry must find the
		// vendor unchanged.
		return
	}
	if faulty && fault.Status != 0 {
		answer(fail(fault.Status, "%s", fault.Message))
		return
	}
	if readErr != nil {
		var tooBig *http.MaxBytesError
		if errors.As(readErr, &tooBig) {
			answer(fail(http.StatusRequestEntityTooLarge, "body is larger than %d bytes", maxBody))
		} else {
			answer(fail(http.StatusBadRequest, "reading the body: %v", readErr))
		}
		return
	}
	c := &call{endpoint: endpoint, apGUID: r.URL.Query().Get("ap_guid"), resellerID: r.URL.Query().Get("reseller_id"), body: raw}
	// The Subscription Create heading documents no query, and the platform
	// can be told to omit it there; everywhere else both are documented.
	if endpoint != "subscription/create" {
		for _, k := range []string{"ap_guid", "reseller_id"} {
			if r.URL.Query().Get(k) == "" {
				answer(fail(http.StatusBadRequest, "missing query argument %s", k))
				return
			}
		}
	}
	if len(bytes.TrimSpace(c.body)) == 0 {
		// The check call carries no body; elsewhere an empty body reads as
		// {} so that the answer names the first missing field.
		c.body = []byte("{}")
	}
	if !json.Valid(c.body) {
		answer(fail(http.StatusBadRequest, "body is not valid JSON"))
		return
	}
	if b := bytes.TrimSpace(c.body); b[0] != '{' {
		answer(fail(http.StatusBadRequest, "body must be a JSON object"))
		return
	}
	v.mu.Lock()
	rep := v.route(c)
	v.mu.Unlock()
	answer(rep)
}

// route runs the endpoint; v.mu held.
func (v *Vendor) route(c *call) reply {
	switch c.endpoint {
	case "check":
		return ok(http.StatusOK, map[string]string{"status": "ok"})
	case "order/attributes":
		return v.orderAttributes(c)
	case "order/attributes_validation":
		return v.validateAttributes(c)
	case "subscription/create":
		return v.createSubscription(c)
	case "subscription/resource_validation":
		return v.validateResources(c)
	case "subscription/usage":
		return v.usage(c)
	case "subscription/consumption":
		return v.consumption(c)
	case "subscription/renew", "subscription/update", "subscription/stop", "subscription/activate", "subscription/delete":
		return v.changeSubscription(c)
	case "user/create":
		return v.createUser(c)
	default: // the other user/… endpoints
		return v.changeUser(c)
	}
}

// takeFaultLocked finds the fault armed on endpoint and counts its use.
// Requests that the endpoint would refuse anyway (wrong method) do not use
// a fault up.
func (v *Vendor) takeFaultLocked(endpoint, method string) (Fault, bool) {
	if method != http.MethodPost {
		return Fault{}, false
	}
	i := slices.IndexFunc(v.faults, func(f Fault) bool { return f.Endpoint == endpoint })
	if i < 0 {
		return Fault{}, false
	}
	f := v.faults[i]
	if f.Times > 0 {
		v.faults[i].Times--
		if v.faults[i].Times == 0 {
			v.faults = slices.Delete(v.faults, i, i+1)
		}
	}
	return f, true
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// orderAttributes answers /order/attributes. Its body (reseller,
// distributor, attributes_for) does not change the answer.
func (v *Vendor) orderAttributes(c *call) reply {
	var b struct {
		AttributesFor json.RawMessage `json:"attributes_for"`
	}
	if r, bad := decode(c.body, &b); bad {
		return r
	}
	out := make([]OrderAttribute, len(v.cfg.OrderAttributes))
	for i, a := range v.cfg.OrderAttributes {
		a.Values = append([]string{}, a.Values...) // [] rather than null on the wire
		out[i] = a
	}
	return ok(http.StatusOK, map[string]any{"order_attributes": out})
}

// validateAttributes answers /order/attributes_validation: every
// required attribute has a value, each value is among the allowed ones
// when the definition lists them, and nothing undefined is sent. It
// answers {"valid": bool, "errors": [{key: problem}]}, one error per
// attribute, in definition order and then key order.
func (v *Vendor) validateAttributes(c *call) reply {
	var b struct {
		Attributes map[string]string `json:"attributes"`
	}
	if r, bad := decode(c.body, &b); bad {
		return r
	}
	errs := []map[string]string{}
	defined := map[string]bool{}
	for _, a := range v.cfg.OrderAttributes {
		defined[a.Key] = true
		val, given := b.Attributes[a.Key]
		switch {
		case a.Required && strings.TrimSpace(val) == "":
			errs = append(errs, map[string]string{a.Key: "is required"})
		case given && val != "" && len(a.Values) > 0 && !slices.Contains(a.Values, val):
			errs = append(errs, map[string]string{a.Key: fmt.Sprintf("must be one of %s", strings.Join(a.Values, ", "))})
		}
	}
	keys := make([]string, 0, len(b.Attributes))
	for k := range b.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !defined[k] {
			errs = append(errs, map[string]string{k: "is not an attribute of this service"})
		}
	}
	return ok(http.StatusOK, map[string]any{"valid": len(errs) == 0, "errors": errs})
}

// decode unmarshals body into dst; on failure it returns a 400 naming the
// offending field.
func decode(body []byte, dst any) (reply, bool) {
	err := json.Unmarshal(body, dst)
	if err == nil {
		return reply{}, false
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fail(http.StatusBadRequest, "field %s must be %s, got JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value), true
	}
	return fail(http.StatusBadRequest, "body: %v", err), true
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "float64", "float32":
		return "a number"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	default:
		return "an object"
	}
}

// present reports whether a JSON field was sent with a value other than null.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

func isObject(raw json.RawMessage) bool {
	b := bytes.TrimSpace(raw)
	return len(b) > 0 && b[0] == '{'
}

// requireObjects checks that each named field is present and an object.
func requireObjects(fields ...namedRaw) (reply, bool) {
	for _, f := range fields {
		if !present(f.raw) {
			return fail(http.StatusBadRequest, "missing required field %s", f.name), true
		}
		if !isObject(f.raw) {
			return fail(http.StatusBadRequest, "field %s must be an object", f.name), true
		}
	}
	return reply{}, false
}

type namedRaw struct {
	name string
	raw  json.RawMessage
}

// recordedBody keeps a body for the request log: JSON as is, anything else
// as a JSON string.
func recordedBody(raw []byte) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if json.Valid(raw) {
		return slices.Clone(raw)
	}
	b, _ := json.Marshal(string(raw))
	return b
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, x := range m {
		out[k] = x
	}
	return out
}
