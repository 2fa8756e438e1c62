// Package examplevendor is a complete reference vendor service: it
// implements every endpoint ActivePlatform calls, correctly and in memory,
// so that demos have something to talk to and the sandbox's end-to-end
// tests exercise real HTTP. Faults (refusals, slowness) can be switched on
// per endpoint, from flags or at run time, to show how the platform reacts.
package examplevendor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault makes one endpoint misbehave.
type Fault struct {
	// Endpoint is the path without the leading slash: "subscription/renew".
	Endpoint string `json:"endpoint"`
	// Status != 0 refuses with that status and the task envelope.
	Status  int    `json:"status"`
	Message string `json:"message"`
	// Delay is waited before answering (or refusing).
	Delay time.Duration `json:"delay_ns"`
	// Times limits how often the fault fires; 0 means until cleared.
	Times int `json:"times"`
}

// Config configures a vendor.
type Config struct {
	Faults []Fault
}

// Request is one request the vendor received.
type Request struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Query  string          `json:"query"`
	Header http.Header     `json:"headers"`
	Body   json.RawMessage `json:"body,omitempty"`
}

type subscription struct {
	ID         string           `json:"id"`
	PlatformID string           `json:"platform_id"`
	Status     string           `json:"status"`
	SKU        string           `json:"sku"`
	Resources  map[string]int64 `json:"resources"`
	Renewals   int              `json:"renewals"`
	ResellerID string           `json:"reseller_id"`
	LastPeriod string           `json:"last_period"`
}

type user struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Active    bool   `json:"active"`
	Deleted   bool   `json:"deleted"`
}

// Vendor is the in-memory vendor service. It is safe for concurrent use.
type Vendor struct {
	mu         sync.Mutex
	faults     []Fault
	requests   []Request
	subs       map[string]*subscription // by vendor id
	byPlatform map[string]string        // platform subscription id → vendor id
	users      map[string]*user
	next       int
}

// New returns a vendor with cfg's faults armed.
func New(cfg Config) *Vendor {
	return &Vendor{
		faults:     append([]Fault(nil), cfg.Faults...),
		subs:       map[string]*subscription{},
		byPlatform: map[string]string{},
		users:      map[string]*user{},
	}
}

// SetFault arms a fault, replacing any on the same endpoint.
func (v *Vendor) SetFault(f Fault) {
	f.Endpoint = strings.Trim(f.Endpoint, "/")
	v.mu.Lock()
	defer v.mu.Unlock()
	kept := v.faults[:0]
	for _, g := range v.faults {
		if g.Endpoint != f.Endpoint {
			kept = append(kept, g)
		}
	}
	v.faults = append(kept, f)
}

// ClearFaults disarms every fault.
func (v *Vendor) ClearFaults() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults = nil
}

// Requests returns every request received, oldest first.
func (v *Vendor) Requests() []Request {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Request(nil), v.requests...)
}

// ParseFault reads a --fault flag value: "subscription/renew=422:Card
// declined" refuses, "subscription/stop=delay:2s" is slow.
func ParseFault(s string) (Fault, error) {
	ep, spec, ok := strings.Cut(s, "=")
	if !ok || ep == "" || spec == "" {
		return Fault{}, fmt.Errorf("fault %q: want ENDPOINT=STATUS:MESSAGE or ENDPOINT=delay:DURATION", s)
	}
	f := Fault{Endpoint: strings.Trim(ep, "/")}
	head, rest, _ := strings.Cut(spec, ":")
	if head == "delay" {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return Fault{}, fmt.Errorf("fault %q: delay %q is not a duration like 2s", s, rest)
		}
		f.Delay = d
		return f, nil
	}
	code, err := strconv.Atoi(head)
	if err != nil || code < 400 || code > 599 {
		return Fault{}, fmt.Errorf("fault %q: status %q must be a number from 400 to 599", s, head)
	}
	f.Status, f.Message = code, rest
	if f.Message == "" {
		f.Message = "refused by the example vendor"
	}
	return f, nil
}

// Handler serves the vendor endpoints and the /_control/ API.
func (v *Vendor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_control/requests", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, v.Requests()) })
	mux.HandleFunc("DELETE /_control/requests", func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		v.requests = nil
		v.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_control/faults", func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		defer v.mu.Unlock()
		writeJSON(w, 200, append([]Fault{}, v.faults...))
	})
	mux.HandleFunc("POST /_control/faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Endpoint string `json:"endpoint"`
			Status   int    `json:"status"`
			Message  string `json:"message"`
			DelayMS  int    `json:"delay_ms"`
			Times    int    `json:"times"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Endpoint == "" {
			taskError(w, 400, "body must be {\"endpoint\", \"status\", \"message\", \"delay_ms\", \"times\"}")
			return
		}
		v.SetFault(Fault{Endpoint: in.Endpoint, Status: in.Status, Message: in.Message, Delay: time.Duration(in.DelayMS) * time.Millisecond, Times: in.Times})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /_control/faults", func(w http.ResponseWriter, r *http.Request) {
		v.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_control/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		defer v.mu.Unlock()
		out := []subscription{}
		for i := 1; i <= v.next; i++ {
			if s, ok := v.subs[vendorID(i)]; ok {
				out = append(out, *s)
			}
		}
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("POST /{path...}", v.serveEvent)
	return mux
}

func vendorID(n int) string { return fmt.Sprintf("vs-%06d", n) }

// body is the union of every event body's fields the vendor reads.
type body struct {
	ExternalID *string `json:"external_id"`
	Plan       *struct {
		SKU       string `json:"sku"`
		Resources []struct {
			Key      string `json:"key"`
			Quantity int64  `json:"quantity"`
		} `json:"resources"`
		Period *struct {
			Value int    `json:"value"`
			Type  string `json:"type"`
		} `json:"period"`
	} `json:"plan"`
	Tenant       *json.RawMessage `json:"tenant"`
	Reseller     *json.RawMessage `json:"reseller"`
	Distributor  *json.RawMessage `json:"distributor"`
	Subscription *struct {
		ID json.RawMessage `json:"id"`
	} `json:"subscription"`
	ID        *string `json:"id"`
	Email     *string `json:"email"`
	Password  *string `json:"password"`
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
}

func (v *Vendor) serveEvent(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	path := strings.Trim(r.URL.Path, "/")
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
	if json.Valid(raw) {
		rec.Body = raw
	}
	v.mu.Lock()
	v.requests = append(v.requests, rec)
	fault, faulty := v.takeFault(path)
	v.mu.Unlock()
	if faulty && fault.Delay > 0 {
		if !sleep(r.Context(), fault.Delay) {
			return
		}
	}
	if faulty && fault.Status != 0 {
		taskError(w, fault.Status, fault.Message)
		return
	}
	q := r.URL.Query()
	if path != "subscription/create" && path != "order/attributes" {
		for _, k := range []string{"ap_guid", "reseller_id"} {
			if q.Get(k) == "" {
				taskError(w, 400, "missing query argument "+k)
				return
			}
		}
	}
	var b body
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &b); err != nil {
			taskError(w, 400, "body is not valid JSON: "+err.Error())
			return
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	status, answer := v.handle(path, &b, q.Get("reseller_id"))
	if msg, ok := answer.(string); ok && status >= 400 {
		taskError(w, status, msg)
		return
	}
	writeJSON(w, status, answer)
}

// takeFault finds an armed fault for path and counts it; v.mu held.
func (v *Vendor) takeFault(path string) (Fault, bool) {
	for i, f := range v.faults {
		if f.Endpoint != path {
			continue
		}
		if f.Times > 0 {
			v.faults[i].Times--
			if v.faults[i].Times == 0 {
				v.faults = append(v.faults[:i], v.faults[i+1:]...)
			}
		}
		return f, true
	}
	return Fault{}, false
}

// handle carries out one event; v.mu held. A string answer with status
// >= 400 is the task envelope's message.
func (v *Vendor) handle(path string, b *body, resellerID string) (int, any) {
	switch path {
	case "check":
		return 200, map[string]string{"status": "ok"}
	case "order/attributes":
		return 200, map[string]any{"order_attributes": []map[string]any{
			{"key": "domain", "label": "Domain", "type": "string", "required": true, "values": []string{}},
		}}
	case "subscription/create":
		for field, missing := range map[string]bool{
			"subscription.id": b.Subscription == nil || len(b.Subscription.ID) == 0,
			"plan":            b.Plan == nil,
			"tenant":          b.Tenant == nil,
			"reseller":        b.Reseller == nil,
		} {
			if missing {
				return 400, "missing required field " + field
			}
		}
		if b.Plan.SKU == "" {
			return 400, "missing required field plan.sku"
		}
		pid := strings.Trim(string(b.Subscription.ID), `"`)
		if id, ok := v.byPlatform[pid]; ok {
			// The platform retried a create: same answer, no second record.
			return 201, map[string]string{"id": id}
		}
		v.next++
		s := &subscription{ID: vendorID(v.next), PlatformID: pid, Status: "active", SKU: b.Plan.SKU, Resources: quantities(b), ResellerID: resellerID}
		v.subs[s.ID], v.byPlatform[pid] = s, s.ID
		return 201, map[string]string{"id": s.ID}
	case "subscription/renew", "subscription/update", "subscription/stop", "subscription/activate",
		"subscription/delete", "subscription/resource_validation", "subscription/usage", "subscription/consumption":
		if b.ExternalID == nil || *b.ExternalID == "" {
			return 400, "missing required field external_id"
		}
		s, ok := v.subs[*b.ExternalID]
		if !ok {
			return 422, fmt.Sprintf("subscription %s not found", *b.ExternalID)
		}
		if s.Status == "deleted" {
			return 422, fmt.Sprintf("subscription %s is deleted", s.ID)
		}
		switch path {
		case "subscription/renew":
			s.Renewals++
			if b.Plan != nil {
				s.Resources = quantities(b)
			}
		case "subscription/update":
			if b.Plan == nil || b.Plan.SKU == "" {
				return 400, "missing required field plan.sku"
			}
			s.SKU, s.Resources = b.Plan.SKU, quantities(b)
		case "subscription/stop":
			s.Status = "stopped"
		case "subscription/activate":
			s.Status = "active"
		case "subscription/delete":
			s.Status = "deleted"
		case "subscription/resource_validation":
			return 200, map[string]bool{"valid": true}
		case "subscription/usage":
			out := []map[string]any{}
			for _, k := range sortedKeys(s.Resources) {
				out = append(out, map[string]any{"key": k, "usage": s.Resources[k] / 2})
			}
			return 200, map[string]any{"resources": out}
		case "subscription/consumption":
			out := []map[string]any{}
			for _, k := range sortedKeys(s.Resources) {
				out = append(out, map[string]any{"key": k, "consumed": s.Resources[k] * 3})
			}
			return 200, map[string]any{"resources": out}
		}
		return 200, map[string]any{}
	case "user/create":
		for field, p := range map[string]*string{"email": b.Email, "password": b.Password, "first_name": b.FirstName, "last_name": b.LastName} {
			if p == nil || *p == "" {
				return 400, "missing required field " + field
			}
		}
		v.next++
		u := &user{ID: fmt.Sprintf("vu-%06d", v.next), Email: *b.Email, FirstName: *b.FirstName, LastName: *b.LastName, Active: true}
		v.users[u.ID] = u
		return 201, map[string]string{"id": u.ID}
	case "user/update", "user/delete", "user/activate", "user/deactivate", "user/password_reset":
		if b.ID == nil || *b.ID == "" {
			return 400, "missing required field id"
		}
		u, ok := v.users[*b.ID]
		if !ok || u.Deleted {
			return 422, fmt.Sprintf("user %s not found", *b.ID)
		}
		switch path {
		case "user/update":
			if b.FirstName != nil {
				u.FirstName = *b.FirstName
			}
			if b.LastName != nil {
				u.LastName = *b.LastName
			}
		case "user/delete":
			u.Deleted = true
		case "user/activate":
			u.Active = true
		case "user/deactivate":
			u.Active = false
		case "user/password_reset":
			if b.Password == nil || *b.Password == "" {
				return 400, "missing required field password"
			}
		}
		return 200, map[string]any{}
	}
	return 404, "unknown endpoint /" + path
}

func quantities(b *body) map[string]int64 {
	out := map[string]int64{}
	if b.Plan != nil {
		for _, r := range b.Plan.Resources {
			out[r.Key] = r.Quantity
		}
	}
	return out
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
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

func taskError(w http.ResponseWriter, status int, msg string) {
	var env struct {
		Task struct {
			ErrorMessage string `json:"error_message"`
		} `json:"task"`
	}
	env.Task.ErrorMessage = msg
	writeJSON(w, status, env)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
