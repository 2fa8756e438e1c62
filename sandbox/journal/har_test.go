package journal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

// harSchemaFile is a JSON Schema of HAR 1.2 written from the spec text. It
// is what keeps WriteHAR honest: the HAR export is only useful if the
// tools vendors already have (browser developer tools, proxies, HAR
// viewers) can open it, and those follow the spec, not our Go types.
const harSchemaFile = "testdata/har-1.2.schema.json"

var harT0 = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// harSamples covers what HAR has a rule for: a request body (postData), a
// refused call, a call with no answer at all (the response must still be
// there), a query string with repeated and escaped parameters, a zero
// virtual time, a whole-second and a non-UTC start time. They are given
// out of order, and two of them start at the same instant, so the test
// sees WriteHAR sort.
func harSamples() []journal.Exchange {
	plus2 := time.FixedZone("+02:00", 2*60*60)
	return []journal.Exchange{
		{
			ID: 4, Workspace: "acme", Event: "usage.report", Action: "check",
			Request: journal.Request{
				Method: "GET",
				URL:    "https://vendor.example/api/usage?z=last&a=first&name=J%C3%BCrgen%20M%C3%BCller&sum=1%2B1&dup=1&dup=2&flag",
				Path:   "/api/usage",
				Query:  map[string]string{"z": "last", "a": "first", "name": "Jürgen Müller", "sum": "1+1", "dup": "2", "flag": ""},
			},
			Response: &journal.Response{
				Status:  200,
				Headers: map[string]string{"content-type": "text/plain"},
				Body:    "",
			},
			Outcome: journal.OutcomeOK,
			// The same instant as exchange 1, in another zone: the tie is
			// broken by id.
			StartedAt:   harT0.Add(2 * time.Second).In(plus2),
			VirtualTime: harT0.AddDate(0, 2, 0),
			DurationMS:  3,
		},
		{
			ID: 1, Workspace: "acme", Event: "subscription.create", SubscriptionID: 7, Action: "order",
			Request: journal.Request{
				Method: "POST", URL: "https://vendor.example/api/subscription/create?ap_guid=g-1", Path: "/api/subscription/create",
				Query:   map[string]string{"ap_guid": "g-1"},
				Headers: map[string]string{"Content-Type": "application/json; charset=utf-8", "X-Request-Id": "r-1"},
				Body:    json.RawMessage(`{"subscription":{"id":7,"plan":"pro","note":"<b>&</b>"}}`),
			},
			Response: &journal.Response{
				Status:  201,
				Headers: map[string]string{"Content-Type": "application/json", "Location": "https://vendor.example/api/subscription/v-7"},
				Body:    `{"id":"v-7"}`,
			},
			Outcome:     journal.OutcomeOK,
			StartedAt:   harT0.Add(2 * time.Second),
			VirtualTime: harT0.AddDate(0, 1, 0),
			DurationMS:  12.5,
		},
		{
			ID: 3, Workspace: "acme", Event: "subscription.suspend", SubscriptionID: 7,
			Request: journal.Request{
				Method: "POST", URL: "https://vendor.example/api/subscription/suspend", Path: "/api/subscription/suspend",
				Headers: map[string]string{},
			},
			Outcome:     journal.OutcomeTimeout,
			Error:       "context deadline exceeded",
			StartedAt:   harT0.Add(time.Second),
			VirtualTime: harT0,
			DurationMS:  10000,
		},
		{
			ID: 5, Workspace: "acme", Event: "subscription.delete", SubscriptionID: 7,
			Request: journal.Request{
				Method: "DELETE", URL: "https://vendor.example/api/subscription/7", Path: "/api/subscription/7",
			},
			Response:   &journal.Response{Status: 204},
			Outcome:    journal.OutcomeOK,
			StartedAt:  harT0.Truncate(time.Second),
			DurationMS: 0.25,
		},
		{
			ID: 2, Workspace: "acme", Event: "subscription.renew", SubscriptionID: 7, Action: "renew",
			Request: journal.Request{
				Method: "POST", URL: "https://vendor.example/api/subscription/renew", Path: "/api/subscription/renew",
				Headers: map[string]string{"Content-Type": "application/json"},
				Body:    json.RawMessage(`{"subscription":{"id":7}}`),
			},
			Response: &journal.Response{
				Status:  422,
				Headers: map[string]string{"Content-Type": "application/json"},
				Body:    `{"task":{"error_message":"Subscription must have an expiration date to be eligible for renew."}}`,
			},
			Outcome:     journal.OutcomeRefused,
			Error:       "Subscription must have an expiration date to be eligible for renew.",
			StartedAt:   harT0,
			VirtualTime: harT0,
			DurationMS:  41.75,
		},
	}
}

// compileHARSchema compiles the schema file; a schema that does not
// compile is a broken test, not a broken export.
func compileHARSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile(harSchemaFile)
	if err != nil {
		t.Fatalf("compile %s: %v", harSchemaFile, err)
	}
	return sch
}

// writeHAR is WriteHAR into memory, failing the test on error.
func writeHAR(t *testing.T, xs []journal.Exchange) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := journal.WriteHAR(&buf, xs, "1.2.3-test"); err != nil {
		t.Fatalf("WriteHAR: %v", err)
	}
	return buf.Bytes()
}

// unmarshalHAR reads a HAR document the way the validator wants it
// (numbers as json.Number, so no precision is lost before validation).
func unmarshalHAR(t *testing.T, data []byte) any {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("WriteHAR wrote invalid JSON: %v\n%s", err, data)
	}
	return doc
}

// TestWriteHARConformsToHAR12 is the point of the schema: whatever WriteHAR
// writes must be a HAR 1.2 document, including the empty export.
func TestWriteHARConformsToHAR12(t *testing.T) {
	sch := compileHARSchema(t)
	tests := []struct {
		name string
		xs   []journal.Exchange
	}{
		{"samples", harSamples()},
		{"no exchanges", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := writeHAR(t, tt.xs)
			if err := sch.Validate(unmarshalHAR(t, data)); err != nil {
				t.Fatalf("WriteHAR output is not HAR 1.2:\n%v\n\ndocument:\n%s", err, data)
			}
		})
	}
}

// harDoc reads back the parts of a HAR document the facts below look at.
// It is declared here rather than borrowed from har.go so that a wrong
// JSON tag there shows up as a wrong value here.
type harDoc struct {
	Log struct {
		Version string `json:"version"`
		Creator struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"creator"`
		Entries []harDocEntry `json:"entries"`
	} `json:"log"`
}

type harDocNameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harDocEntry struct {
	StartedDateTime string  `json:"startedDateTime"`
	Time            float64 `json:"time"`
	Request         struct {
		Method      string            `json:"method"`
		URL         string            `json:"url"`
		Headers     []harDocNameValue `json:"headers"`
		QueryString []harDocNameValue `json:"queryString"`
		PostData    *struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
		} `json:"postData"`
		BodySize int `json:"bodySize"`
	} `json:"request"`
	Response struct {
		Status      int    `json:"status"`
		StatusText  string `json:"statusText"`
		RedirectURL string `json:"redirectURL"`
		BodySize    int    `json:"bodySize"`
		Content     struct {
			Size     int    `json:"size"`
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
		} `json:"content"`
	} `json:"response"`
	Timings   map[string]float64 `json:"timings"`
	Comment   string             `json:"comment"`
	Apsandbox map[string]any     `json:"_apsandbox"`
}

// id is the exchange id WriteHAR put in the custom member.
func (e *harDocEntry) id() int64 {
	id, _ := e.Apsandbox["id"].(float64)
	return int64(id)
}

// TestWriteHARFacts checks what a schema cannot: that the values are the
// right ones, and the spec's rules written in prose (sorted entries, time
// being the sum of the timings).
func TestWriteHARFacts(t *testing.T) {
	xs := harSamples()
	data := writeHAR(t, xs)
	var doc harDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("read back: %v\n%s", err, data)
	}
	byID := map[int64]*harDocEntry{}
	for i := range doc.Log.Entries {
		byID[doc.Log.Entries[i].id()] = &doc.Log.Entries[i]
	}
	if len(byID) != len(xs) {
		t.Fatalf("got %d distinct entries, want %d:\n%s", len(byID), len(xs), data)
	}
	entry := func(id int64) *harDocEntry { return byID[id] }

	tests := []struct {
		name string
		got  func() any
		want any
	}{
		{
			name: "log version and creator",
			got:  func() any { return []string{doc.Log.Version, doc.Log.Creator.Name, doc.Log.Creator.Version} },
			want: []string{"1.2", "apsandbox", "1.2.3-test"},
		},
		{
			// The spec prefers entries sorted by startedDateTime; equal
			// instants (1 and 4, in different zones) are ordered by id.
			name: "entries sorted by start time, then id",
			got: func() any {
				var ids []int64
				for i := range doc.Log.Entries {
					ids = append(ids, doc.Log.Entries[i].id())
				}
				return ids
			},
			want: []int64{5, 2, 3, 1, 4},
		},
		{
			name: "startedDateTime keeps the zone, always with milliseconds",
			got:  func() any { return []string{entry(4).StartedDateTime, entry(5).StartedDateTime} },
			want: []string{"2025-03-14T11:26:55.589+02:00", "2025-03-14T09:26:53.000Z"},
		},
		{
			name: "queryString in URL order, unescaped, repeats and bare names kept",
			got:  func() any { return entry(4).Request.QueryString },
			want: []harDocNameValue{
				{"z", "last"}, {"a", "first"}, {"name", "Jürgen Müller"}, {"sum", "1+1"},
				{"dup", "1"}, {"dup", "2"}, {"flag", ""},
			},
		},
		{
			name: "URL without a query gives an empty queryString, not null",
			got:  func() any { return entry(3).Request.QueryString },
			want: []harDocNameValue{},
		},
		{
			name: "postData.text is the request body, mimeType its Content-Type",
			got: func() any {
				p := entry(1).Request.PostData
				if p == nil {
					return nil
				}
				return []string{p.Text, p.MimeType}
			},
			want: []string{string(xs[1].Request.Body), "application/json; charset=utf-8"},
		},
		{
			name: "request.bodySize is the body's length",
			got:  func() any { return []int{entry(1).Request.BodySize, entry(3).Request.BodySize} },
			want: []int{len(xs[1].Request.Body), 0},
		},
		{
			name: "no request body, no postData",
			got:  func() any { return entry(3).Request.PostData == nil },
			want: true,
		},
		{
			name: "nil response gives status 0 and unknown bodySize",
			got: func() any {
				r := entry(3).Response
				return []int{r.Status, r.BodySize, r.Content.Size}
			},
			want: []int{0, -1, 0},
		},
		{
			name: "refused answer keeps status, text and body",
			got: func() any {
				r := entry(2).Response
				return []any{r.Status, r.StatusText, r.BodySize, r.Content.Text, r.Content.MimeType}
			},
			want: []any{422, "Unprocessable Entity", len(xs[4].Response.Body), xs[4].Response.Body, "application/json"},
		},
		{
			name: "redirectURL is the Location header",
			got:  func() any { return entry(1).Response.RedirectURL },
			want: "https://vendor.example/api/subscription/v-7",
		},
		{
			// "The time value for the request must be equal to the sum of
			// the timings supplied in this section (excluding any -1
			// values)."
			name: "time is the sum of the timings that are not -1",
			got: func() any {
				var diffs []float64
				for i := range doc.Log.Entries {
					e := &doc.Log.Entries[i]
					sum := 0.0
					for _, v := range e.Timings {
						if v != -1 {
							sum += v
						}
					}
					diffs = append(diffs, e.Time-sum)
				}
				return diffs
			},
			want: []float64{0, 0, 0, 0, 0},
		},
		{
			name: "comment says why a call failed",
			got:  func() any { return []string{entry(3).Comment, entry(2).Comment, entry(1).Comment} },
			want: []string{
				"outcome: timeout; error: context deadline exceeded",
				"outcome: refused; error: Subscription must have an expiration date to be eligible for renew.",
				"",
			},
		},
		{
			name: "_apsandbox carries id, event and outcome",
			got: func() any {
				a := entry(2).Apsandbox
				return []any{a["id"], a["event"], a["outcome"], a["error"]}
			},
			want: []any{2.0, "subscription.renew", journal.OutcomeRefused, xs[4].Error},
		},
		{
			name: "_apsandbox carries the virtual time",
			got:  func() any { return entry(1).Apsandbox["virtual_time"] },
			want: "2025-04-14T09:26:53.589Z",
		},
		{
			// A zero virtual time would read as the year 1; it is left out.
			name: "zero virtual time is left out of _apsandbox",
			got: func() any {
				_, ok := entry(5).Apsandbox["virtual_time"]
				return ok
			},
			want: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestHARSchemaRejects proves the schema can fail: a schema that accepts
// everything would make TestWriteHARConformsToHAR12 pass for nothing.
// Each case breaks one rule of the spec in a valid WriteHAR document and
// names where the validator must report it, so a case cannot pass by
// failing for some other reason. The cases with no wantAt stay valid:
// they check the schema is not stricter than the spec.
func TestHARSchemaRejects(t *testing.T) {
	sch := compileHARSchema(t)
	data := writeHAR(t, harSamples())

	obj := func(v any, key string) map[string]any { return v.(map[string]any)[key].(map[string]any) }
	log := func(doc any) map[string]any { return obj(doc, "log") }
	entry0 := func(doc any) map[string]any { return log(doc)["entries"].([]any)[0].(map[string]any) }
	const e0 = "/log/entries/0"

	tests := []struct {
		name   string
		mutate func(doc any)
		wantAt string // where the violation is reported; "" if none
	}{
		{"request.method missing", func(doc any) { delete(obj(entry0(doc), "request"), "method") }, e0 + "/request"},
		{"unknown member in an entry", func(doc any) { entry0(doc)["bogus"] = true }, e0},
		{"misspelt member in a request", func(doc any) {
			req := obj(entry0(doc), "request")
			req["querystring"] = req["queryString"]
			delete(req, "queryString")
		}, e0 + "/request"},
		{"log.entries missing", func(doc any) { delete(log(doc), "entries") }, "/log"},
		{"log.creator.version missing", func(doc any) { delete(obj(log(doc), "creator"), "version") }, "/log/creator"},
		{"startedDateTime not ISO 8601", func(doc any) { entry0(doc)["startedDateTime"] = "14/03/2025 09:26:53" }, e0 + "/startedDateTime"},
		{"startedDateTime without a zone", func(doc any) { entry0(doc)["startedDateTime"] = "2025-03-14T09:26:53.589" }, e0 + "/startedDateTime"},
		{"negative time", func(doc any) { entry0(doc)["time"] = json.Number("-1") }, e0 + "/time"},
		{"timings.wait -1", func(doc any) { obj(entry0(doc), "timings")["wait"] = json.Number("-1") }, e0 + "/timings/wait"},
		{"timings.receive missing", func(doc any) { delete(obj(entry0(doc), "timings"), "receive") }, e0 + "/timings"},
		{"timings.dns below -1", func(doc any) { obj(entry0(doc), "timings")["dns"] = json.Number("-2") }, e0 + "/timings/dns"},
		{"response.status a string", func(doc any) { obj(entry0(doc), "response")["status"] = "204" }, e0 + "/response/status"},
		{"response.bodySize fractional", func(doc any) { obj(entry0(doc), "response")["bodySize"] = json.Number("1.5") }, e0 + "/response/bodySize"},
		{"response.content.mimeType missing", func(doc any) {
			delete(obj(obj(entry0(doc), "response"), "content"), "mimeType")
		}, e0 + "/response/content"},
		{"header without a value", func(doc any) {
			obj(entry0(doc), "response")["headers"] = []any{map[string]any{"name": "X-A"}}
		}, e0 + "/response/headers/0"},
		{"postData with both text and params", func(doc any) {
			obj(entry0(doc), "request")["postData"] = map[string]any{"mimeType": "text/plain", "text": "a=1", "params": []any{}}
		}, e0 + "/request/postData"},
		{"relative request URL", func(doc any) { obj(entry0(doc), "request")["url"] = "/api/subscription/7" }, e0 + "/request/url"},
		{"cache missing", func(doc any) { delete(entry0(doc), "cache") }, e0},
		{"log.version 2.0", func(doc any) { log(doc)["version"] = "2.0" }, "/log/version"},

		{"custom member starting with _", func(doc any) { entry0(doc)["_note"] = map[string]any{"any": []any{1}} }, ""},
		{"optional members the spec names", func(doc any) {
			e := entry0(doc)
			e["pageref"] = "page_0"
			e["serverIPAddress"] = "10.0.0.1"
			e["connection"] = "52492"
			e["cache"] = map[string]any{"beforeRequest": nil, "afterRequest": map[string]any{
				"expires": "2025-03-14T10:00:00Z", "lastAccess": "2025-03-14T09:00:00Z", "eTag": "", "hitCount": json.Number("0"),
			}}
			obj(e, "timings")["ssl"] = json.Number("-1")
			obj(obj(e, "response"), "content")["encoding"] = "base64"
			log(doc)["browser"] = map[string]any{"name": "Firefox", "version": "3.6"}
			log(doc)["pages"] = []any{map[string]any{
				"startedDateTime": "2025-03-14T09:26:53Z", "id": "page_0", "title": "t",
				"pageTimings": map[string]any{"onLoad": json.Number("-1")},
			}}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := unmarshalHAR(t, data) // a fresh copy: mutations must not add up
			tt.mutate(doc)
			err := sch.Validate(doc)
			if tt.wantAt == "" {
				if err != nil {
					t.Errorf("got invalid, want valid: %v", err)
				}
				return
			}
			var verr *jsonschema.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("got %v, want a violation at %s", err, tt.wantAt)
			}
			if got := violationsAt(verr); !slices.Contains(got, tt.wantAt) {
				t.Errorf("violations at %q, want one at %s\n%v", got, tt.wantAt, err)
			}
		})
	}
}

// violationsAt lists where in the instance the innermost errors of e are,
// as JSON pointers: those are the rules actually broken.
func violationsAt(e *jsonschema.ValidationError) []string {
	if len(e.Causes) == 0 {
		return []string{"/" + strings.Join(e.InstanceLocation, "/")}
	}
	var at []string
	for _, c := range e.Causes {
		at = append(at, violationsAt(c)...)
	}
	return at
}
