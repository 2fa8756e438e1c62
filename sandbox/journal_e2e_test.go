package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

// volatile makes a vendor look like a real one: every JSON object it
// answers carries a timestamp and a request id that differ on each call.
func volatile(h http.Handler) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		body := rec.buf.Bytes()
		var obj map[string]any
		if json.Unmarshal(body, &obj) == nil && obj != nil {
			obj["processed_at"] = time.Now().UTC().Format(time.RFC3339Nano)
			obj["request_id"] = fmt.Sprintf("req-%d-%d", time.Now().UnixNano(), n.Add(1))
			body, _ = json.Marshal(obj)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.status)
		w.Write(body)
	})
}

type bufferedWriter struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferedWriter) WriteHeader(s int)           { b.status = s }

// lifecycle runs order → renew → change resources → stop → activate →
// delete and returns the subscription id.
func (e *env) lifecycle() int64 {
	e.t.Helper()
	p := e.findPlan(recurringMonthly)
	r := e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID})
	id := r.Subscription.ID
	res := p.Resources[0]
	for _, step := range []struct {
		path string
		body any
	}{
		{"renew", map[string]any{}},
		{"change-resources", map[string]any{"resources": map[string]int64{res.Key: max(res.Included, res.Min) + 2}}},
		{"stop", nil},
		{"activate", nil},
		{"delete", nil},
	} {
		var out opResult
		if code := e.do("POST", e.ws(fmt.Sprintf("/subscriptions/%d/%s", id, step.path)), step.body, &out); code != http.StatusOK {
			e.t.Fatalf("%s: %d", step.path, code)
		}
		if out.Subscription.LastError != "" {
			e.t.Fatalf("%s refused: %s", step.path, out.Subscription.LastError)
		}
	}
	return id
}

type replayReport struct {
	Target  string   `json:"target"`
	Ignore  []string `json:"ignore"`
	Summary struct {
		Total, Equal, Changed, Failed int
	} `json:"summary"`
	Items []struct {
		ExchangeID     int64  `json:"exchange_id"`
		Event          string `json:"event"`
		Verdict        string `json:"verdict"`
		RecordedStatus int    `json:"recorded_status"`
		ReplayedStatus int    `json:"replayed_status"`
		Changes        []struct {
			Op       string          `json:"op"`
			Path     string          `json:"path"`
			Recorded json.RawMessage `json:"recorded"`
			Replayed json.RawMessage `json:"replayed"`
		} `json:"changes"`
	} `json:"items"`
}

// TestReplayShowsOnlyTheChangedAnswer records a lifecycle against the
// example vendor, replays it against a second vendor that refuses
// renewals, and gets exactly that difference: nothing for the request ids
// and timestamps that differ on every call.
func TestReplayShowsOnlyTheChangedAnswer(t *testing.T) {
	e := newEnvWith(t, 1, nil, volatile)
	e.lifecycle()

	b := examplevendor.New(examplevendor.Config{})
	bURL := serveOn(t, volatile(b.Handler()))
	if err := b.SetFault(examplevendor.Fault{Endpoint: "subscription/renew", Status: 422, Message: "renewals are paused"}); err != nil {
		t.Fatal(err)
	}

	var rep replayReport
	if code := e.do("POST", e.ws("/replays"), map[string]any{
		"vendor_url": bURL,
		"ignore":     []string{"/processed_at", "/request_id"},
	}, &rep); code != http.StatusOK {
		t.Fatalf("replay: %d", code)
	}
	if rep.Summary.Total != 6 || rep.Summary.Equal != 5 || rep.Summary.Changed != 1 || rep.Summary.Failed != 0 {
		t.Fatalf("summary = %+v, want 6 total, 5 equal, 1 changed", rep.Summary)
	}
	for _, it := range rep.Items {
		if it.Event != "subscription.renew" {
			if it.Verdict != "equal" {
				t.Errorf("%s: verdict %s, changes %+v", it.Event, it.Verdict, it.Changes)
			}
			continue
		}
		if it.Verdict != "changed" || it.RecordedStatus != 200 || it.ReplayedStatus != 422 {
			t.Errorf("renew: verdict %s, status %d → %d", it.Verdict, it.RecordedStatus, it.ReplayedStatus)
		}
		var paths []string
		for _, c := range it.Changes {
			paths = append(paths, c.Op+" "+c.Path)
			if c.Path == "/task" && !strings.Contains(string(c.Replayed), "renewals are paused") {
				t.Errorf("task replayed as %s", c.Replayed)
			}
		}
		if got, want := strings.Join(paths, ", "), "add /task"; got != want {
			t.Errorf("renew changes = %s, want %s", got, want)
		}
	}

	// Without the ignore rules every answer differs: the rules are what
	// makes the report readable.
	var noisy replayReport
	e.do("POST", e.ws("/replays"), map[string]any{"vendor_url": bURL, "filter": map[string]any{"event": "subscription.stop"}}, &noisy)
	if noisy.Summary.Total != 1 || noisy.Summary.Changed != 1 {
		t.Errorf("replay without ignore rules: %+v, want the timestamp to show", noisy.Summary)
	}

	// A bad ignore pattern is a 400 naming the field; nothing is sent.
	before := len(b.Requests())
	var bad apiError
	if code := e.do("POST", e.ws("/replays"), map[string]any{"vendor_url": bURL, "ignore": []string{"no-slash"}}, &bad); code != http.StatusBadRequest ||
		len(bad.Error.Details) == 0 || bad.Error.Details[0].Field != "ignore" {
		t.Errorf("bad ignore: %d %+v", code, bad)
	}
	if after := len(b.Requests()); after != before {
		t.Errorf("a refused replay sent %d calls", after-before)
	}
}

// TestExportImportRedaction: secrets are [FILTERED] in lists and exports
// unless the control token asks for raw; JSON Lines exports import into
// another workspace; HAR exports parse.
func TestExportImportRedaction(t *testing.T) {
	const token = "control-secret"
	e := newEnvWith(t, 1, func(c *sandbox.Config) { c.ControlToken = token })
	var set map[string]any
	e.do("GET", e.ws("/integration"), nil, &set)
	set["headers"] = map[string]string{"Authorization": "Bearer vendor-secret", "X-Trace": "visible"}
	if code := e.do("PUT", e.ws("/integration"), set, &set); code != http.StatusOK {
		t.Fatalf("put integration: %d %v", code, set)
	}
	e.lifecycle()

	// Lists redact.
	xs := e.exchanges("?event=subscription.create")
	if len(xs) != 1 {
		t.Fatalf("%d create exchanges", len(xs))
	}
	var full map[string]any
	e.do("GET", e.ws(fmt.Sprintf("/exchanges/%d", xs[0].ID)), nil, &full)
	hdr := full["request"].(map[string]any)["headers"].(map[string]any)
	if hdr["Authorization"] != "[FILTERED]" || hdr["X-Trace"] != "visible" {
		t.Errorf("redacted headers = %v", hdr)
	}

	// raw=true needs the token.
	path := e.ws(fmt.Sprintf("/exchanges/%d?raw=true", xs[0].ID))
	var denied apiError
	if code := e.do("GET", path, nil, &denied); code != http.StatusForbidden || denied.Error.Code != "forbidden" {
		t.Errorf("raw without token: %d %+v", code, denied)
	}
	req, _ := http.NewRequest("GET", e.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "Bearer vendor-secret") {
		t.Errorf("raw with token: %d %s", resp.StatusCode, raw)
	}

	// Filters.
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"?action=renew", 1},
		{"?status=201", 1},
		{"?status=0", 0},
		{"?outcome=ok", 6},
		{"?event=subscription.stop&action=stop", 1},
		{"?virtual_from=2026-01-01T09:00:00Z&virtual_to=2026-01-01T09:00:01Z", 6},
		{"?virtual_to=2026-01-01T09:00:00Z", 0},
		{"?from=2000-01-01T00:00:00Z", 6},
		{"?run_id=nope", 0},
	} {
		if got := len(e.exchanges(tt.query)); got != tt.want {
			t.Errorf("exchanges%s: %d, want %d", tt.query, got, tt.want)
		}
	}

	// JSON Lines export is redacted, one line per exchange, versioned.
	code, jsonl := e.raw("GET", e.ws("/exchanges/export?format=jsonl"))
	lines := strings.Split(strings.TrimSpace(jsonl), "\n")
	if code != http.StatusOK || len(lines) != 6 || strings.Contains(jsonl, "vendor-secret") ||
		!strings.HasPrefix(lines[0], `{"schema":"apsandbox.exchange/v1"`) {
		t.Fatalf("jsonl export: %d, %d lines:\n%s", code, len(lines), jsonl)
	}

	// It imports into another workspace.
	e.do("POST", "/api/v1/workspaces", map[string]any{"name": "copy"}, nil)
	var imp struct {
		Imported int   `json:"imported"`
		FirstID  int64 `json:"first_id"`
		LastID   int64 `json:"last_id"`
	}
	if code := e.post("/api/v1/workspaces/copy/exchanges/import", "application/x-ndjson", jsonl, &imp); code != http.StatusOK || imp.Imported != 6 {
		t.Fatalf("import: %d %+v", code, imp)
	}
	var copied struct {
		Items []struct {
			OriginalID int64  `json:"original_id"`
			Workspace  string `json:"workspace"`
		} `json:"items"`
	}
	e.do("GET", "/api/v1/workspaces/copy/exchanges", nil, &copied)
	if len(copied.Items) != 6 || copied.Items[0].OriginalID != xs[0].ID || copied.Items[0].Workspace != "copy" {
		t.Errorf("imported exchanges: %+v", copied.Items)
	}

	// A bad file imports nothing and names the line.
	bad := lines[0] + "\n" + strings.Replace(lines[1], `"outcome":"ok"`, `"outcome":"maybe"`, 1) + "\n"
	var ae apiError
	if code := e.post("/api/v1/workspaces/copy/exchanges/import", "application/x-ndjson", bad, &ae); code != http.StatusBadRequest ||
		len(ae.Error.Details) == 0 || !strings.HasPrefix(ae.Error.Details[0].Field, "line 2") {
		t.Errorf("bad import: %d %+v", code, ae)
	}
	e.do("GET", "/api/v1/workspaces/copy/exchanges", nil, &copied)
	if len(copied.Items) != 6 {
		t.Errorf("a refused import changed the journal: %d exchanges", len(copied.Items))
	}

	// HAR export parses, one entry per exchange, redacted.
	code, har := e.raw("GET", e.ws("/exchanges/export?format=har"))
	var doc struct {
		Log struct {
			Version string `json:"version"`
			Entries []struct {
				Request struct {
					Method  string `json:"method"`
					Headers []struct{ Name, Value string }
				} `json:"request"`
				Response struct {
					Status int `json:"status"`
				} `json:"response"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal([]byte(har), &doc); err != nil || code != http.StatusOK {
		t.Fatalf("har export: %d %v", code, err)
	}
	if doc.Log.Version != "1.2" || len(doc.Log.Entries) != 6 || doc.Log.Entries[0].Response.Status != 201 || strings.Contains(har, "vendor-secret") {
		t.Errorf("har: version %s, %d entries", doc.Log.Version, len(doc.Log.Entries))
	}
}

// TestRunHeaderTagsExchanges: operations sent with X-Apsandbox-Run are
// found by run_id.
func TestRunHeaderTagsExchanges(t *testing.T) {
	e := newEnv(t, 1)
	p := e.findPlan(recurringMonthly)
	body, _ := json.Marshal(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID})
	req, _ := http.NewRequest("POST", e.base+e.ws("/subscriptions"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Apsandbox-Run", "run-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.order(map[string]any{"tenant_id": e.firstTenant(), "plan_id": p.ID})
	if got := e.exchanges("?run_id=run-42"); len(got) != 1 {
		t.Errorf("run_id filter: %d exchanges, want 1", len(got))
	}
}

// post sends a raw body with a content type.
func (e *env) post(path, contentType, body string, out any) int {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := e.validator.Validate(req, resp.StatusCode, resp.Header, raw); err != nil {
		e.t.Errorf("POST %s: response does not match openapi.yaml: %v\n%s", path, err, raw)
	}
	if out != nil {
		json.Unmarshal(raw, out)
	}
	return resp.StatusCode
}

// captured records every request a handler saw, whole.
type captured struct {
	mu   sync.Mutex
	seen []string
}

func (c *captured) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b strings.Builder
		r.Header.Write(&b)
		c.mu.Lock()
		c.seen = append(c.seen, r.URL.String()+"\n"+b.String()+"\n"+string(body))
		c.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}

func (c *captured) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.seen, "\n---\n")
}

// TestReplayKeepsSecretsHome: a replay by a caller without the control
// token never carries the vendor's credentials (or any redacted value) to
// the URL it names, nor shows them in its report; against the
// workspace's own vendor it still authenticates. With the token, the
// recorded requests go out as they were sent.
func TestReplayKeepsSecretsHome(t *testing.T) {
	const token = "control-secret"
	home := &captured{}
	e := newEnvWith(t, 1, func(c *sandbox.Config) { c.ControlToken = token }, home.wrap)
	var set map[string]any
	e.do("GET", e.ws("/integration"), nil, &set)
	set["headers"] = map[string]string{"Authorization": "Bearer vendor-secret", "X-Api-Key": "key-secret"}
	if code := e.do("PUT", e.ws("/integration"), set, &set); code != http.StatusOK {
		t.Fatalf("put integration: %d", code)
	}
	e.lifecycle()
	var first exchange
	if xs := e.exchanges("?event=subscription.create"); len(xs) == 1 {
		first = xs[0]
	}
	// The recorded create body carries the world's distributor
	// certificate password; lists show it [FILTERED].
	code, raw := e.rawAuth("GET", e.ws(fmt.Sprintf("/exchanges/%d?raw=true", first.ID)), token)
	m := regexp.MustCompile(`"certificate_password":"([^"]+)"`).FindStringSubmatch(raw)
	if code != http.StatusOK || m == nil || m[1] == "[FILTERED]" {
		t.Fatalf("raw create exchange: %d, no certificate password in\n%s", code, raw)
	}
	bodySecret := m[1]

	elsewhere := &captured{}
	other := examplevendor.New(examplevendor.Config{})
	otherURL := serveOn(t, elsewhere.wrap(other.Handler()))
	var rep replayReport
	if code := e.do("POST", e.ws("/replays"), map[string]any{"vendor_url": otherURL}, &rep); code != http.StatusOK || rep.Summary.Total != 6 {
		t.Fatalf("replay elsewhere: %d %+v", code, rep.Summary)
	}
	sent := elsewhere.all()
	for _, secret := range []string{"vendor-secret", "key-secret", bodySecret} {
		if strings.Contains(sent, secret) {
			t.Errorf("a replay without the control token sent %q to another URL", secret)
		}
	}
	if !strings.Contains(sent, "/subscription/renew") {
		t.Fatalf("the replay sent nothing recognisable:\n%s", sent)
	}

	// Against the workspace's own vendor, its integration headers go
	// with the calls, as on any operation.
	before := len(home.all())
	if code := e.do("POST", e.ws("/replays"), map[string]any{"filter": map[string]any{"event": "subscription.renew"}}, &rep); code != http.StatusOK || rep.Summary.Total != 1 {
		t.Fatalf("replay home: %d %+v", code, rep)
	}
	if got := home.all()[before:]; !strings.Contains(got, "Bearer vendor-secret") || strings.Contains(got, bodySecret) {
		t.Errorf("replay to the workspace's vendor: credentials sent %v, body secret sent %v",
			strings.Contains(got, "Bearer vendor-secret"), strings.Contains(got, bodySecret))
	}

	// With the control token the recorded requests go out as sent.
	before = len(elsewhere.all())
	req, _ := http.NewRequest("POST", e.base+e.ws("/replays"), strings.NewReader(`{"vendor_url":"`+otherURL+`","filter":{"event":"subscription.create"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := elsewhere.all()[before:]; resp.StatusCode != http.StatusOK || !strings.Contains(got, "Bearer vendor-secret") || !strings.Contains(got, bodySecret) {
		t.Errorf("replay with the control token: %d, sent:\n%s", resp.StatusCode, got)
	}
}

// rawAuth sends a request with the control token and returns the answer.
func (e *env) rawAuth(method, path, token string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestExportStreamsEveryPage: a JSON Lines export larger than one page
// carries every exchange once, in id order, and reads back as an import.
func TestExportStreamsEveryPage(t *testing.T) {
	e := newEnv(t, 1)
	const n = 1234 // more than two pages
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"schema":"apsandbox.exchange/v1","id":%d,"workspace":"w","event":"check",`+
			`"request":{"method":"POST","url":"http://v/check","path":"/check","endpoint":"/check","query":{},"headers":{}},`+
			`"response":{"status":200,"headers":{},"body":"ok"},"outcome":"ok","started_at":"2026-01-01T09:00:00Z",`+
			`"virtual_time":"2026-01-01T09:00:00Z","duration_ms":1}`+"\n", i+1)
	}
	var imp struct{ Imported int }
	if code := e.post(e.ws("/exchanges/import"), "application/x-ndjson", b.String(), &imp); code != http.StatusOK || imp.Imported != n {
		t.Fatalf("import: %d %+v", code, imp)
	}
	req, _ := http.NewRequest("GET", e.base+e.ws("/exchanges/export?format=jsonl"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := e.validator.Validate(req, resp.StatusCode, resp.Header, body); err != nil {
		t.Errorf("export does not match openapi.yaml: %v", err)
	}
	var prev int64
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	for i, line := range lines {
		var x struct{ ID int64 }
		if err := json.Unmarshal([]byte(line), &x); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if x.ID <= prev {
			t.Fatalf("line %d: id %d after %d", i+1, x.ID, prev)
		}
		prev = x.ID
	}
	if len(lines) != n {
		t.Errorf("export has %d lines, want %d", len(lines), n)
	}
}
