package examplevendor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// endpoints are the paths the vendor serves, without the leading slash.
// Faults are keyed by these names so that a typo in a --fault flag is an
// error at start-up instead of a fault that silently never fires.
var endpoints = []string{
	"check",
	"order/attributes",
	"order/attributes_validation",
	"subscription/activate",
	"subscription/consumption",
	"subscription/create",
	"subscription/delete",
	"subscription/renew",
	"subscription/resource_validation",
	"subscription/stop",
	"subscription/update",
	"subscription/usage",
	"user/activate",
	"user/create",
	"user/deactivate",
	"user/delete",
	"user/password_reset",
	"user/update",
}

// Endpoints lists every vendor endpoint, without the leading slash, in a
// stable order.
func Endpoints() []string { return slices.Clone(endpoints) }

func knownEndpoint(e string) bool { return slices.Contains(endpoints, e) }

// defaultFaultMessage is sent when a refusing fault names no message, so
// that the platform still shows the operator something readable.
const defaultFaultMessage = "refused by the example vendor (injected fault)"

// Fault makes one endpoint misbehave, to show how the platform reacts to a
// vendor that refuses or is slow. The zero Status with a Delay only slows
// the endpoint down; the request is then served normally.
type Fault struct {
	// Endpoint is the path without the leading slash: "subscription/renew".
	Endpoint string
	// Status, when not 0, refuses the call with this status (400-599) and
	// the task envelope carrying Message.
	Status  int
	Message string
	// Delay is waited before answering or refusing. The wait ends early
	// when the caller goes away, as a real server's work would be wasted.
	Delay time.Duration
	// Times is how many more calls the fault affects; 0 means until the
	// fault is cleared.
	Times int
}

// faultJSON is the control API's shape of a Fault: milliseconds, because
// JSON has no duration type and people type delays by hand.
type faultJSON struct {
	Endpoint string `json:"endpoint"`
	Status   int    `json:"status"`
	Message  string `json:"message"`
	DelayMS  int64  `json:"delay_ms"`
	Times    int    `json:"times"`
}

// MarshalJSON writes {"endpoint","status","message","delay_ms","times"}.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{f.Endpoint, f.Status, f.Message, f.Delay.Milliseconds(), f.Times})
}

// UnmarshalJSON reads the MarshalJSON shape. Unknown fields are errors:
// a misspelt "delay" would otherwise arm a fault that does something else
// than the caller believes.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = Fault{Endpoint: j.Endpoint, Status: j.Status, Message: j.Message, Delay: time.Duration(j.DelayMS) * time.Millisecond, Times: j.Times}
	return nil
}

// normalized trims the endpoint's slashes and fills the default message,
// so that what is listed is exactly what will be sent.
func (f Fault) normalized() Fault {
	f.Endpoint = strings.Trim(strings.TrimSpace(f.Endpoint), "/")
	if f.Status != 0 && f.Message == "" {
		f.Message = defaultFaultMessage
	}
	return f
}

// Validate reports the first thing wrong with f, naming it.
func (f Fault) Validate() error {
	f = f.normalized()
	switch {
	case f.Endpoint == "":
		return fmt.Errorf("fault: endpoint is empty")
	case !knownEndpoint(f.Endpoint):
		return fmt.Errorf("fault: unknown endpoint %q (known: %s)", f.Endpoint, strings.Join(endpoints, ", "))
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("fault on %s: status %d must be 0 (only delay) or from 400 to 599", f.Endpoint, f.Status)
	case f.Delay < 0:
		return fmt.Errorf("fault on %s: delay %s is negative", f.Endpoint, f.Delay)
	case f.Times < 0:
		return fmt.Errorf("fault on %s: times %d is negative", f.Endpoint, f.Times)
	case f.Status == 0 && f.Delay == 0:
		return fmt.Errorf("fault on %s does nothing: give a status or a delay", f.Endpoint)
	}
	return nil
}

// ParseFault reads a --fault flag value:
//
//	subscription/renew=422:Card declined   refuse with 422 and that message
//	subscription/renew=503                 refuse with 503 and a default message
//	subscription/stop=delay:2s             answer normally, 2 seconds late
//	subscription/stop=delay:2s:504:Slow    wait 2 seconds, then refuse
//
// The message is everything after the status, colons included.
func ParseFault(s string) (Fault, error) {
	ep, spec, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(ep) == "" || spec == "" {
		return Fault{}, fmt.Errorf("fault %q: want ENDPOINT=STATUS[:MESSAGE] or ENDPOINT=delay:DURATION[:STATUS[:MESSAGE]]", s)
	}
	f := Fault{Endpoint: ep}
	if rest, ok := strings.CutPrefix(spec, "delay:"); ok {
		d, after, _ := strings.Cut(rest, ":")
		dur, err := time.ParseDuration(d)
		if err != nil || dur <= 0 {
			return Fault{}, fmt.Errorf("fault %q: delay %q is not a positive duration like 2s or 500ms", s, d)
		}
		f.Delay, spec = dur, after
		if spec == "" {
			return f.checked(s)
		}
	}
	code, msg, _ := strings.Cut(spec, ":")
	n, err := strconv.Atoi(code)
	if err != nil {
		return Fault{}, fmt.Errorf("fault %q: status %q is not a number (or use delay:DURATION)", s, code)
	}
	f.Status, f.Message = n, msg
	return f.checked(s)
}

func (f Fault) checked(flag string) (Fault, error) {
	f = f.normalized()
	if err := f.Validate(); err != nil {
		return Fault{}, fmt.Errorf("%q: %w", flag, err)
	}
	return f, nil
}

// ParseFaults reads a comma-separated list of faults, as the
// EXAMPLE_VENDOR_FAULTS variable holds. A comma starts a new fault only
// when what follows names an endpoint, so messages may contain commas:
// "subscription/renew=422:Declined, sorry,user/create=500".
func ParseFaults(s string) ([]Fault, error) {
	var specs []string
	for piece := range strings.SplitSeq(s, ",") {
		ep, _, ok := strings.Cut(piece, "=")
		if len(specs) == 0 || strings.TrimSpace(piece) == "" || (ok && knownEndpoint(strings.Trim(strings.TrimSpace(ep), "/"))) {
			specs = append(specs, piece)
			continue
		}
		specs[len(specs)-1] += "," + piece
	}
	var out []Fault
	for _, spec := range specs {
		if strings.TrimSpace(spec) == "" {
			continue
		}
		f, err := ParseFault(strings.TrimSpace(spec))
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// FaultFlags is a repeatable flag.Value collecting --fault values.
type FaultFlags []Fault

// String lists the faults in flag syntax.
func (ff *FaultFlags) String() string {
	if ff == nil {
		return ""
	}
	var parts []string
	for _, f := range *ff {
		var spec []string
		if f.Delay > 0 {
			spec = append(spec, "delay", f.Delay.String())
		}
		if f.Status != 0 {
			spec = append(spec, strconv.Itoa(f.Status), f.Message)
		}
		parts = append(parts, f.Endpoint+"="+strings.Join(spec, ":"))
	}
	return strings.Join(parts, " ")
}

// Set parses one --fault value with ParseFault and appends it.
func (ff *FaultFlags) Set(s string) error {
	f, err := ParseFault(s)
	if err != nil {
		return err
	}
	*ff = append(*ff, f)
	return nil
}
