package journal_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

// redactSample returns a fresh exchange full of secrets each time, so a
// test can compare Redact's input with an untouched twin.
func redactSample() journal.Exchange {
	return journal.Exchange{
		ID: 1, Workspace: "acme", Event: "subscription.create",
		Request: journal.Request{
			Method: "POST",
			URL:    "https://vendor.example/api/x?page=2&access_token=t0k&Api-Key=k#frag",
			Path:   "/api/x",
			Query:  map[string]string{"page": "2", "access_token": "t0k", "Api-Key": "k"},
			Headers: map[string]string{
				"Authorization": "Bearer abc",
				"X-Auth-Token":  "xyz",
				"Content-Type":  "application/json",
			},
			Body: json.RawMessage(`{"user":{"login":"a","password":"p"}}`),
		},
		Response: &journal.Response{
			Status:  200,
			Headers: map[string]string{"Set-Cookie": "sid=1", "Content-Type": "application/json"},
			Body:    `{"id":"s-1","token":"r3fr3sh"}`,
		},
		Outcome:   journal.OutcomeOK,
		StartedAt: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC),
	}
}

func TestRedactHeaders(t *testing.T) {
	tests := []struct {
		name string
		want string // journal.Filtered or the value itself
	}{
		{"Authorization", journal.Filtered},
		{"authorization", journal.Filtered},
		{"Proxy-Authorization", journal.Filtered},
		{"Cookie", journal.Filtered},
		{"Set-Cookie", journal.Filtered},
		{"X-Auth-Token", journal.Filtered},
		{"X-Client-Secret", journal.Filtered},
		{"X-Password", journal.Filtered},
		{"X-Api-Key", journal.Filtered},
		{"ApiKey", journal.Filtered},
		{"X-Api_Key", journal.Filtered},
		{"Content-Type", "value"},
		{"Accept", "value"},
		{"X-Request-Id", "value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := journal.Exchange{
				Request:  journal.Request{Headers: map[string]string{tt.name: "value"}},
				Response: &journal.Response{Headers: map[string]string{tt.name: "value"}},
			}
			out := journal.Redact(in)
			if got := out.Request.Headers[tt.name]; got != tt.want {
				t.Errorf("request header %s = %q, want %q", tt.name, got, tt.want)
			}
			if got := out.Response.Headers[tt.name]; got != tt.want {
				t.Errorf("response header %s = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestRedactBody(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "nested password keeps member order",
			in:   `{"user":{"login":"a","password":"p"}}`,
			want: `{"user":{"login":"a","password":"[FILTERED]"}}`,
		},
		{
			name: "object and array values are replaced whole",
			in:   `{"z":1,"Token":{"a":[1,{"secret":2}]},"a":2,"client_secret":[1,2]}`,
			want: `{"z":1,"Token":"[FILTERED]","a":2,"client_secret":"[FILTERED]"}`,
		},
		{
			name: "inside arrays, numbers kept exactly",
			in:   `[{"api_key":"k","n":1.50},{"APIKEY":null,"big":12345678901234567890123}]`,
			want: `[{"api_key":"[FILTERED]","n":1.50},{"APIKEY":"[FILTERED]","big":12345678901234567890123}]`,
		},
		{
			name: "layout around a secret is kept",
			in:   "{\n  \"password\" : \"p\" ,\n  \"b\": 1e3\n}",
			want: "{\n  \"password\" : \"[FILTERED]\" ,\n  \"b\": 1e3\n}",
		},
		{
			name: "escaped key",
			in:   `{"pass\u0077ord":"p","s":"\u00e9<&>"}`,
			want: `{"pass\u0077ord":"[FILTERED]","s":"\u00e9<&>"}`,
		},
		{
			name: "secret words in values are not keys",
			in:   `{"note":"my password is hunter2","list":["token"]}`,
			want: `{"note":"my password is hunter2","list":["token"]}`,
		},
		{
			name: "no secrets, pretty-printed",
			in:   "{\n  \"a\": [1, 2]\n}",
			want: "{\n  \"a\": [1, 2]\n}",
		},
		{
			name: "scalar document",
			in:   `"password"`,
			want: `"password"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := journal.Exchange{
				Request:  journal.Request{Body: json.RawMessage(tt.in)},
				Response: &journal.Response{Body: tt.in},
			}
			out := journal.Redact(in)
			if got := string(out.Request.Body); got != tt.want {
				t.Errorf("request body:\n got %s\nwant %s", got, tt.want)
			}
			if got := out.Response.Body; got != tt.want {
				t.Errorf("response body:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRedactLeavesNonJSONResponseBodies(t *testing.T) {
	tests := []struct{ name, body string }{
		{"form", "password=hunter2&token=abc"},
		{"html", `<html><body>{"password":"p"}</body></html>`},
		{"truncated JSON", `{"password":"p"`},
		{"two documents", `{"password":"p"} {"token":"t"}`},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := journal.Redact(journal.Exchange{Response: &journal.Response{Body: tt.body}})
			if got := out.Response.Body; got != tt.body {
				t.Errorf("got body %q, want it unchanged %q", got, tt.body)
			}
		})
	}
}

func TestRedactQuery(t *testing.T) {
	out := journal.Redact(redactSample())
	wantQuery := map[string]string{"page": "2", "access_token": journal.Filtered, "Api-Key": journal.Filtered}
	if got := out.Request.Query; !reflect.DeepEqual(got, wantQuery) {
		t.Errorf("query = %v, want %v", got, wantQuery)
	}
	wantURL := "https://vendor.example/api/x?page=2&access_token=%5BFILTERED%5D&Api-Key=%5BFILTERED%5D#frag"
	if got := out.Request.URL; got != wantURL {
		t.Errorf("URL = %q, want %q", got, wantURL)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://v.example/x", "https://v.example/x"},
		{"https://v.example/x?a=1&b=%20", "https://v.example/x?a=1&b=%20"},
		{"https://v.example/x?secret", "https://v.example/x?secret=%5BFILTERED%5D"},
		{"https://v.example/x?my%5Ftoken=t&a=1", "https://v.example/x?my%5Ftoken=%5BFILTERED%5D&a=1"},
		{"https://v.example/x?a=1#token=t", "https://v.example/x?a=1#token=t"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			out := journal.Redact(journal.Exchange{Request: journal.Request{URL: tt.in}})
			if got := out.Request.URL; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedactDoesNotModifyItsInput(t *testing.T) {
	in := redactSample()
	out := journal.Redact(in)
	if want := redactSample(); !reflect.DeepEqual(in, want) {
		t.Fatalf("Redact modified its input:\n got %+v\nwant %+v", in, want)
	}
	if out.Request.Headers["Authorization"] != journal.Filtered || out.Response.Headers["Set-Cookie"] != journal.Filtered {
		t.Fatalf("Redact did not filter: %+v", out)
	}
	if got, want := out.Response.Body, `{"id":"s-1","token":"[FILTERED]"}`; got != want {
		t.Errorf("response body = %s, want %s", got, want)
	}

	// The copy shares nothing with the input: writing to it leaves the
	// input alone.
	out.Request.Headers["Content-Type"] = "changed"
	out.Request.Query["page"] = "changed"
	out.Response.Headers["Content-Type"] = "changed"
	out.Request.Body[0] = '['
	out.Response.Status = 500
	if want := redactSample(); !reflect.DeepEqual(in, want) {
		t.Errorf("Redact's result aliases its input:\n got %+v\nwant %+v", in, want)
	}
}

func TestRedactKeepsNilsAndUnsecretBodiesAsTheyAre(t *testing.T) {
	in := journal.Exchange{Event: "e", Request: journal.Request{Method: "GET", URL: "https://v.example/"}}
	if got := journal.Redact(in); !reflect.DeepEqual(got, in) {
		t.Errorf("got %+v, want %+v", got, in)
	}

	in.Request.Body = json.RawMessage(`{"a":1}`)
	out := journal.Redact(in)
	out.Request.Body[0] = '['
	if got, want := string(in.Request.Body), `{"a":1}`; got != want {
		t.Errorf("an unredacted body is shared with the input: input became %s, want %s", got, want)
	}
}
