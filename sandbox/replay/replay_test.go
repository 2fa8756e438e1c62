package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

func TestParsePattern(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{in: "/id"},
		{in: "/items/*/created_at"},
		{in: "/**/updated_at"},
		{in: "/a~1b/c~0d"},
		{in: "", wantErr: "empty pattern"},
		{in: "id", wantErr: "starts with /"},
		{in: "/a~2", wantErr: "~ must be written ~0"},
	}
	for _, tt := range tests {
		_, err := ParsePattern(tt.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tt.wantErr == "") != (err == nil) || !strings.Contains(got, tt.wantErr) {
			t.Errorf("ParsePattern(%q) = %q, want error containing %q", tt.in, got, tt.wantErr)
		}
	}
	if _, err := ParsePatterns([]string{"/ok", "bad"}); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("ParsePatterns names the bad pattern: got %v", err)
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/id", "/id", true},
		{"/id", "/id/x", true}, // a subtree goes with its root
		{"/id", "/ids", false},
		{"/id", "", false},
		{"/id", "/a/id", false},
		{"/items/*/created_at", "/items/0/created_at", true},
		{"/items/*/created_at", "/items/12/created_at", true},
		{"/items/*/created_at", "/items/0/name", false},
		{"/items/*/created_at", "/items", false},
		{"/**/updated_at", "/updated_at", true},
		{"/**/updated_at", "/a/b/c/updated_at", true},
		{"/**/updated_at", "/a/b/c/updated_at/x", true},
		{"/**/updated_at", "/a/b/c", false},
		{"/**", "/anything/at/all", true},
		{"/a/**/z", "/a/z", true},
		{"/a/**/z", "/a/b/c/z", true},
		{"/a/**/z", "/b/z", false},
		{"/a~1b", "/a~1b", true}, // escaped "/" in a member name
		{"/a~1b", "/a/b", false},
		{"/*", "", false},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(tt.path); got != tt.want {
			t.Errorf("%s matches %q = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func resp(status int, body string) *journal.Response {
	return &journal.Response{Status: status, Body: body}
}

// changes renders a diff's changes as "op path recorded→replayed" lines.
func changes(d Diff) string {
	var lines []string
	for _, c := range d.Changes {
		lines = append(lines, c.Op+" "+c.Path+" "+string(c.Recorded)+"→"+string(c.Replayed))
	}
	return strings.Join(lines, "\n")
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name               string
		recorded, replayed *journal.Response
		ignore             []string
		wantVerdict        string
		wantStatusChanged  bool
		wantChanges        string
	}{
		{name: "same", recorded: resp(200, `{"a":1}`), replayed: resp(200, `{"a":1}`), wantVerdict: Equal},
		{name: "member order and spacing do not count", recorded: resp(200, `{"a":1,"b":[1,2]}`), replayed: resp(200, "{ \"b\": [1, 2],\n \"a\": 1 }"), wantVerdict: Equal},
		{name: "number spelling does not count", recorded: resp(200, `{"n":1,"f":0.5,"e":100}`), replayed: resp(200, `{"n":1.0,"f":5e-1,"e":1E2}`), wantVerdict: Equal},
		{name: "big ids keep every digit", recorded: resp(201, `{"id":9007199254740993}`), replayed: resp(201, `{"id":9007199254740992}`),
			wantVerdict: Changed, wantChanges: "replace /id 9007199254740993→9007199254740992"},
		{name: "added member", recorded: resp(200, `{}`), replayed: resp(422, `{"task":{"error_message":"no"}}`),
			wantVerdict: Changed, wantStatusChanged: true, wantChanges: `add /task →{"error_message":"no"}`},
		{name: "removed member", recorded: resp(200, `{"a":1,"b":2}`), replayed: resp(200, `{"a":1}`),
			wantVerdict: Changed, wantChanges: "remove /b 2→"},
		{name: "replaced with null", recorded: resp(200, `{"a":{"x":1}}`), replayed: resp(200, `{"a":null}`),
			wantVerdict: Changed, wantChanges: `replace /a {"x":1}→null`},
		{name: "ignored paths", recorded: resp(200, `{"id":"1","at":"t1","items":[{"ts":1,"v":"a"}]}`),
			replayed: resp(200, `{"id":"2","at":"t2","items":[{"ts":2,"v":"a"}]}`),
			ignore:   []string{"/id", "/at", "/items/*/ts"}, wantVerdict: Equal},
		{name: "ignore does not hide other changes", recorded: resp(200, `{"id":"1","v":"a"}`), replayed: resp(200, `{"id":"2","v":"b"}`),
			ignore: []string{"/id"}, wantVerdict: Changed, wantChanges: `replace /v "a"→"b"`},
		{name: "status only", recorded: resp(200, ""), replayed: resp(204, ""), wantVerdict: Changed, wantStatusChanged: true},
		{name: "text bodies compared as bytes", recorded: resp(200, "ok"), replayed: resp(200, "OK"),
			wantVerdict: Changed, wantChanges: `replace  "ok"→"OK"`},
		{name: "json to text", recorded: resp(200, `{"a":1}`), replayed: resp(502, "Bad Gateway"),
			wantVerdict: Changed, wantStatusChanged: true, wantChanges: `replace  "{\"a\":1}"→"Bad Gateway"`},
		{name: "body appears", recorded: resp(200, ""), replayed: resp(200, `{"a":1}`),
			wantVerdict: Changed, wantChanges: `add  →"{\"a\":1}"`},
		{name: "no answer now", recorded: resp(200, `{}`), replayed: nil, wantVerdict: Failed},
		{name: "huge exponents are compared as spelt, at once", recorded: resp(200, `{"n":1e10000000}`), replayed: resp(200, `{"n":1E+10000000}`),
			wantVerdict: Changed, wantChanges: "replace /n 1e10000000→1E+10000000"},
		{name: "huge exponents, same spelling", recorded: resp(200, `{"n":1e-9999999}`), replayed: resp(200, `{"n":1e-9999999}`), wantVerdict: Equal},
		{name: "no answer recorded, one now", recorded: nil, replayed: resp(200, ""), wantVerdict: Changed, wantStatusChanged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ignore, err := ParsePatterns(tt.ignore)
			if err != nil {
				t.Fatal(err)
			}
			d := Compare(tt.recorded, tt.replayed, ignore)
			if d.Verdict != tt.wantVerdict || d.StatusChanged != tt.wantStatusChanged {
				t.Errorf("verdict %s, status changed %v; want %s, %v", d.Verdict, d.StatusChanged, tt.wantVerdict, tt.wantStatusChanged)
			}
			if got := changes(d); got != tt.wantChanges {
				t.Errorf("changes:\n%s\nwant:\n%s", got, tt.wantChanges)
			}
		})
	}
}

// fakeSender answers from a table keyed by URL and records what it got.
type fakeSender struct {
	answers map[string]*journal.Response
	got     []journal.Request
	urls    []string
}

func (f *fakeSender) Resend(_ context.Context, req journal.Request, url string, _ time.Duration) journal.Exchange {
	f.got = append(f.got, req)
	f.urls = append(f.urls, url)
	x := journal.Exchange{Request: req, DurationMS: 2}
	if r, ok := f.answers[url]; ok {
		x.Response, x.Outcome = r, journal.OutcomeOK
	} else {
		x.Outcome, x.Error = journal.OutcomeError, "connection refused"
	}
	return x
}

func recorded(id int64, endpoint string, r *journal.Response) journal.Exchange {
	return journal.Exchange{
		ID: id, Event: "subscription" + strings.ReplaceAll(endpoint, "/subscription/", "."),
		Request: journal.Request{
			Method: "POST", URL: "http://old:9090/api" + endpoint + "?ap_guid=g&reseller_id=3", Endpoint: endpoint,
			Headers: map[string]string{"Authorization": journal.Filtered, "X-Trace": "t"},
		},
		Response: r,
	}
}

func TestRun(t *testing.T) {
	xs := []journal.Exchange{
		recorded(1, "/subscription/create", resp(201, `{"id":"v-1","at":"t1"}`)),
		recorded(2, "/subscription/renew", resp(200, `{}`)),
		recorded(3, "/subscription/stop", resp(200, `{}`)),
	}
	s := &fakeSender{answers: map[string]*journal.Response{
		"http://new:9191/subscription/create?ap_guid=g&reseller_id=3": resp(201, `{"id":"v-1","at":"t2"}`),
		"http://new:9191/subscription/renew?ap_guid=g&reseller_id=3":  resp(422, `{"task":{"error_message":"no"}}`),
	}}
	ignore, _ := ParsePatterns([]string{"/at"})
	rep := Run(context.Background(), s, xs, Options{Target: "http://new:9191/", Ignore: ignore, Headers: map[string]string{"authorization": "Bearer real"}})

	if got, want := rep.Summary, (Summary{Total: 3, Equal: 1, Changed: 1, Failed: 1}); got != want {
		t.Errorf("summary %+v, want %+v", got, want)
	}
	var verdicts []string
	for _, it := range rep.Items {
		verdicts = append(verdicts, it.Verdict)
	}
	if got, want := strings.Join(verdicts, ","), "equal,changed,failed"; got != want {
		t.Errorf("verdicts in order: %s, want %s", got, want)
	}
	if rep.Items[2].Error != "connection refused" || rep.OK() {
		t.Errorf("failed item error %q, OK %v", rep.Items[2].Error, rep.OK())
	}
	// A redacted header is not sent as "[FILTERED]"; a replay header
	// replaces a recorded one whatever its case.
	h := s.got[0].Headers
	if _, ok := h["Authorization"]; ok || h["authorization"] != "Bearer real" || h["X-Trace"] != "t" {
		t.Errorf("headers sent: %v", h)
	}
	if s.urls[0] != "http://new:9191/subscription/create?ap_guid=g&reseller_id=3" {
		t.Errorf("target URL %s", s.urls[0])
	}

	// A cancelled run sends nothing more and says so.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s2 := &fakeSender{}
	rep = Run(ctx, s2, xs, Options{})
	if len(s2.got) != 0 || rep.Summary.Failed != 3 || !strings.HasPrefix(rep.Items[0].Error, "not sent") {
		t.Errorf("cancelled run: sent %d, report %+v", len(s2.got), rep.Summary)
	}
}

func TestTargetURL(t *testing.T) {
	tests := []struct {
		url, endpoint, base, want, wantErr string
	}{
		{url: "http://a/api/subscription/renew?x=1", endpoint: "/subscription/renew", base: "http://b:1/v2", want: "http://b:1/v2/subscription/renew?x=1"},
		{url: "http://a/api/subscription/renew?x=1", endpoint: "/subscription/renew", base: "http://b:1/v2/", want: "http://b:1/v2/subscription/renew?x=1"},
		{url: "http://a/api/check", endpoint: "/check", base: "http://b", want: "http://b/check"},
		{url: "http://a/api/check", endpoint: "/check", base: "", want: "http://a/api/check"},
		{url: "http://a/api/check", endpoint: "", base: "", want: "http://a/api/check"},
		// Aimed elsewhere, a call never falls back to its recorded URL.
		{url: "http://a/api/check", endpoint: "", base: "http://b", wantErr: "recorded without an endpoint"},
		{url: "http://a/api/check", endpoint: "@evil.test/x", base: "http://b", wantErr: "does not start with /"},
		{url: "http://a/api/check", endpoint: "/../x", base: "http://b", want: "http://b/../x"},
		{url: "http://a/api/check", endpoint: "//evil.test/x", base: "http://b", want: "http://b//evil.test/x"}, // a path, still on b
	}
	for _, tt := range tests {
		got, err := TargetURL(journal.Request{URL: tt.url, Endpoint: tt.endpoint}, tt.base)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tt.want || !strings.Contains(gotErr, tt.wantErr) || (tt.wantErr == "") != (err == nil) {
			t.Errorf("TargetURL(%s, %q, %s) = %q, %v; want %q, error containing %q", tt.url, tt.endpoint, tt.base, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestReportText(t *testing.T) {
	rep := Report{Target: "http://new", Ignore: []string{"/at"}}
	rep.Add(Item{ExchangeID: 1, Event: "check", Method: "POST", URL: "http://new/check", Diff: Diff{Verdict: Equal, RecordedStatus: 200, ReplayedStatus: 200}})
	rep.Add(Item{ExchangeID: 2, Event: "subscription.renew", Method: "POST", URL: "http://new/subscription/renew",
		Diff: Compare(resp(200, `{"a":1}`), resp(422, `{"task":{"error_message":"no"}}`), nil)})
	rep.Add(Item{ExchangeID: 3, Event: "subscription.stop", Method: "POST", URL: "http://new/subscription/stop", Error: "timeout", Diff: Diff{Verdict: Failed}})
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"replay of 3 exchange(s) against http://new, ignoring /at",
		"equal    #1 check  POST http://new/check  200",
		"changed  #2 subscription.renew  POST http://new/subscription/renew  200 → 422",
		`add     /task {"error_message":"no"}`,
		"remove  /a (was 1)",
		"failed   #3 subscription.stop  POST http://new/subscription/stop  timeout",
		"1 equal, 1 changed, 1 failed of 3",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
	// The JSON form is the operator API's ReplayReport shape.
	raw, _ := json.Marshal(rep)
	for _, key := range []string{`"summary":{"total":3`, `"verdict":"changed"`, `"recorded_status":200`, `"replayed_status":422`, `"status_changed":true`, `"op":"add","path":"/task"`} {
		if !bytes.Contains(raw, []byte(key)) {
			t.Errorf("JSON report lacks %s: %s", key, raw)
		}
	}
}
