package journal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

var exportT0 = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// exportSamples covers what a round trip can lose: a nil response, an
// empty body, nested JSON with exact numbers, zero and non-zero times.
func exportSamples() []journal.Exchange {
	return []journal.Exchange{
		{
			ID: 1, Workspace: "acme", Event: "subscription.create",
			SubscriptionID: 7, OrderID: 8, UserID: 9, Action: "order", RunID: "run-1",
			Request: journal.Request{
				Method: "POST", URL: "https://vendor.example/api/subscription?dry=1", Path: "/api/subscription",
				Endpoint: "/subscription",
				Query:    map[string]string{"dry": "1"},
				Headers:  map[string]string{"Content-Type": "application/json"},
				Body:     json.RawMessage(`{"plan":{"id":"p1","seats":[1,2.50,12345678901234567890]},"note":"<b>&</b>","x":null}`),
			},
			Response: &journal.Response{
				Status:  201,
				Headers: map[string]string{"Content-Type": "application/json"},
				Body:    `{"id":"s-1"}`,
			},
			Outcome:     journal.OutcomeOK,
			StartedAt:   exportT0.Add(123456789 * time.Nanosecond),
			VirtualTime: exportT0.AddDate(0, 1, 0),
			DurationMS:  12.5,
		},
		{
			ID: 2, Workspace: "acme", Event: "subscription.renew", OriginalID: 42,
			Request: journal.Request{
				Method: "POST", URL: "https://vendor.example/api/renew", Path: "/api/renew",
				Headers: map[string]string{},
			},
			Outcome:    journal.OutcomeTimeout,
			Error:      "context deadline exceeded",
			StartedAt:  exportT0.Add(time.Minute),
			DurationMS: 30000,
		},
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	want := exportSamples()
	var buf bytes.Buffer
	if err := journal.WriteJSONL(&buf, want); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.SplitAfter(out, "\n")
	if got, want := len(lines), len(want)+1; got != want || lines[len(lines)-1] != "" {
		t.Fatalf("got %d newline-terminated pieces %q, want %d lines each ending in a newline", got, lines, want-1)
	}
	for i, line := range lines[:len(want)] {
		if prefix := `{"schema":"apsandbox.exchange/v1","id":`; !strings.HasPrefix(line, prefix) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, line, prefix)
		}
	}

	got, err := journal.ReadJSONL(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestReadJSONLSkipsBlankLinesAndReadsLongOnes(t *testing.T) {
	x := exportSamples()[0]
	x.Response.Body = strings.Repeat("a", 2<<20) // far beyond bufio's default 64 KiB
	var buf bytes.Buffer
	if err := journal.WriteJSONL(&buf, []journal.Exchange{x, x}); err != nil {
		t.Fatal(err)
	}
	first, second, _ := strings.Cut(buf.String(), "\n")
	in := "\n" + first + "\n  \n\r\n" + second

	got, err := journal.ReadJSONL(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Response.Body != x.Response.Body {
		t.Errorf("got %d exchanges, want 2 with the long body intact", len(got))
	}
}

func TestReadJSONLEmptyInput(t *testing.T) {
	got, err := journal.ReadJSONL(strings.NewReader(""))
	if err != nil || len(got) != 0 {
		t.Errorf("ReadJSONL(\"\") = %v, %v; want no exchanges and no error", got, err)
	}
}

// validLine is one well-formed exported exchange; the malformed cases
// below each break one thing in it.
const validLine = `{"schema":"apsandbox.exchange/v1","id":1,"workspace":"w","event":"subscription.create",` +
	`"request":{"method":"POST","url":"https://v.example/x","path":"/x","query":null,"headers":{}},` +
	`"response":{"status":200,"headers":{},"body":""},` +
	`"outcome":"ok","started_at":"2026-01-01T09:00:00Z","virtual_time":"0001-01-01T00:00:00Z","duration_ms":1.5}`

func breakLine(old, new string) string {
	if !strings.Contains(validLine, old) {
		panic("validLine has no " + old)
	}
	return strings.Replace(validLine, old, new, 1)
}

func TestReadJSONLRejects(t *testing.T) {
	tests := []struct {
		name      string
		lines     []string
		wantLine  int
		wantField string
		// wantText must appear in the error message.
		wantText string
	}{
		{
			name:     "bad JSON on line 2",
			lines:    []string{validLine, `{"schema":"apsandbox.exchange/v1",`, validLine},
			wantLine: 2, wantText: "line 2: invalid JSON",
		},
		{
			name:     "line longer than 16 MiB",
			lines:    []string{validLine, `{"schema":"` + strings.Repeat("a", 17<<20) + `"}`},
			wantLine: 2, wantText: "line 2: longer than 16 MiB",
		},
		{
			name:     "not an object",
			lines:    []string{`[1,2]`},
			wantLine: 1, wantText: "line 1: must be a JSON object; got array",
		},
		{
			name:     "missing schema",
			lines:    []string{validLine, validLine, breakLine(`"schema":"apsandbox.exchange/v1",`, "")},
			wantLine: 3, wantField: "schema", wantText: `line 3: field "schema": missing`,
		},
		{
			name:     "wrong schema",
			lines:    []string{breakLine(`exchange/v1`, `exchange/v0`)},
			wantLine: 1, wantField: "schema",
			wantText: `line 1: field "schema": must be "apsandbox.exchange/v1"; got "apsandbox.exchange/v0"`,
		},
		{
			name:     "unknown top-level field",
			lines:    []string{validLine, breakLine(`"id":1,`, `"id":1,"colour":"red",`)},
			wantLine: 2, wantField: "colour", wantText: `line 2: field "colour": unknown field`,
		},
		{
			name:     "unknown nested field",
			lines:    []string{breakLine(`"method":"POST"`, `"method":"POST","verb":"POST"`)},
			wantLine: 1, wantField: "request.verb", wantText: `line 1: field "request.verb": unknown field`,
		},
		{
			name:     "field in the wrong case",
			lines:    []string{breakLine(`"event"`, `"Event"`)},
			wantLine: 1, wantField: "Event", wantText: `field "Event": unknown field`,
		},
		{
			name:     "bad outcome",
			lines:    []string{validLine, "", breakLine(`"outcome":"ok"`, `"outcome":"maybe"`)},
			wantLine: 3, wantField: "outcome",
			wantText: `line 3: field "outcome": must be one of ok, refused, timeout, error; got "maybe"`,
		},
		{
			name:     "endpoint that could leave the vendor's host",
			lines:    []string{breakLine(`"path":"/x"`, `"path":"/x","endpoint":"@evil.test/x"`)},
			wantLine: 1, wantField: "request.endpoint", wantText: `line 1: field "request.endpoint": must start with /; got "@evil.test/x"`,
		},
		{
			name:     "start beyond what the journal stores",
			lines:    []string{breakLine(`"started_at":"2026-01-01T09:00:00Z"`, `"started_at":"2300-01-01T09:00:00Z"`)},
			wantLine: 1, wantField: "started_at", wantText: `line 1: field "started_at": must be between 1678 and 2262; got 2300-01-01T09:00:00Z`,
		},
		{
			name:     "negative duration",
			lines:    []string{breakLine(`"duration_ms":1.5`, `"duration_ms":-3`)},
			wantLine: 1, wantField: "duration_ms", wantText: `line 1: field "duration_ms": must not be negative; got -3`,
		},
		{
			name:     "empty event",
			lines:    []string{breakLine(`"event":"subscription.create"`, `"event":""`)},
			wantLine: 1, wantField: "event", wantText: `line 1: field "event": must not be empty`,
		},
		{
			name:     "empty method",
			lines:    []string{breakLine(`"method":"POST"`, `"method":""`)},
			wantLine: 1, wantField: "request.method", wantText: `field "request.method": must not be empty`,
		},
		{
			name:     "missing url",
			lines:    []string{breakLine(`"url":"https://v.example/x",`, ``)},
			wantLine: 1, wantField: "request.url", wantText: `field "request.url": must not be empty`,
		},
		{
			name:     "zero start time",
			lines:    []string{breakLine(`"started_at":"2026-01-01T09:00:00Z"`, `"started_at":"0001-01-01T00:00:00Z"`)},
			wantLine: 1, wantField: "started_at", wantText: `field "started_at": must be set`,
		},
		{
			name:     "unparsable start time",
			lines:    []string{breakLine(`"started_at":"2026-01-01T09:00:00Z"`, `"started_at":"yesterday"`)},
			wantLine: 1, wantField: "started_at", wantText: `field "started_at": must be an RFC 3339 time; got "yesterday"`,
		},
		{
			name:     "status as a string",
			lines:    []string{breakLine(`"status":200`, `"status":"200"`)},
			wantLine: 1, wantField: "response.status", wantText: `field "response.status": must be an integer; got string`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := journal.ReadJSONL(strings.NewReader(strings.Join(tt.lines, "\n") + "\n"))
			if got != nil {
				t.Errorf("got %d exchanges, want none: an import is all or nothing", len(got))
			}
			var ie *journal.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("got error %v (%T), want *journal.ImportError", err, err)
			}
			if len(ie.Problems) != 1 {
				t.Fatalf("got problems %+v, want exactly one", ie.Problems)
			}
			p := ie.Problems[0]
			if p.Line != tt.wantLine || p.Field != tt.wantField {
				t.Errorf("got line %d field %q, want line %d field %q", p.Line, p.Field, tt.wantLine, tt.wantField)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantText)
			}
		})
	}
}

func TestReadJSONLReportsSeveralProblems(t *testing.T) {
	bad := breakLine(`"outcome":"ok"`, `"outcome":"maybe"`)
	tests := []struct {
		name      string
		lines     []string
		wantLines []int
	}{
		{"two bad lines", []string{validLine, bad, validLine, bad}, []int{2, 4}},
		{"capped at 20", slices.Repeat([]string{bad}, 30), seq(1, 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := journal.ReadJSONL(strings.NewReader(strings.Join(tt.lines, "\n")))
			var ie *journal.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("got error %v, want *journal.ImportError", err)
			}
			var gotLines []int
			for _, p := range ie.Problems {
				gotLines = append(gotLines, p.Line)
			}
			if !reflect.DeepEqual(gotLines, tt.wantLines) {
				t.Errorf("got problems on lines %v, want %v", gotLines, tt.wantLines)
			}
			for _, l := range tt.wantLines {
				if want := fmt.Sprintf("line %d: field \"outcome\"", l); !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestReadJSONLSeveralProblemsOnOneLine(t *testing.T) {
	line := breakLine(`"event":"subscription.create"`, `"event":""`)
	line = strings.Replace(line, `"outcome":"ok"`, `"outcome":"maybe"`, 1)
	_, err := journal.ReadJSONL(strings.NewReader(line))
	var ie *journal.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("got error %v, want *journal.ImportError", err)
	}
	var got []string
	for _, p := range ie.Problems {
		got = append(got, fmt.Sprintf("%d:%s", p.Line, p.Field))
	}
	if want := []string{"1:event", "1:outcome"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got problems %v, want %v", got, want)
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func ExampleWriteJSONL() {
	x := journal.Exchange{
		ID:        1,
		Workspace: "acme",
		Event:     "subscription.create",
		Request: journal.Request{
			Method: "POST",
			URL:    "https://vendor.example/subscription",
			Path:   "/subscription",
			Body:   json.RawMessage(`{"plan":"basic"}`),
		},
		Response:   &journal.Response{Status: 201, Body: `{"id":"s-1"}`},
		Outcome:    journal.OutcomeOK,
		StartedAt:  time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC),
		DurationMS: 12.5,
	}
	if err := journal.WriteJSONL(os.Stdout, []journal.Exchange{x}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"schema":"apsandbox.exchange/v1","id":1,"workspace":"acme","event":"subscription.create","request":{"method":"POST","url":"https://vendor.example/subscription","path":"/subscription","query":null,"headers":null,"body":{"plan":"basic"}},"response":{"status":201,"headers":null,"body":"{\"id\":\"s-1\"}"},"outcome":"ok","started_at":"2026-01-01T09:00:00Z","virtual_time":"0001-01-01T00:00:00Z","duration_ms":12.5}
}
