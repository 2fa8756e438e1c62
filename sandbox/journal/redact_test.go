package journal_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
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
			URL:    "https://bob:pw@vendor.example/api/x?page=2&access_token=t0k&Api-Key=k#frag",
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
			Status: 200,
			Headers: map[string]string{
				"Set-Cookie":   "sid=1",
				"Content-Type": "application/json",
				"location":     "https://bob:pw@app.example/cb?state=s&token=t#access_token=a",
			},
			Body: `{"id":"s-1","token":"r3fr3sh"}`,
		},
		Outcome:   journal.OutcomeRefused,
		Error:     `vendor answered HTTP 401: {"access_token":"sekrit123","x":1}`,
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
		{"Private-Token", journal.Filtered},
		{"X-Client-Secret", journal.Filtered},
		{"X-Password", journal.Filtered},
		{"X-Api-Key", journal.Filtered},
		{"x-api-key", journal.Filtered},
		{"ApiKey", journal.Filtered},
		{"X-Api_Key", journal.Filtered},
		{"Content-Type", "value"},
		{"Accept", "value"},
		{"X-Request-Id", "value"},
		// Header names stay on the narrow list: this one is CORS, not
		// a credential, and replay needs it.
		{"Access-Control-Allow-Credentials", "value"},
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

func TestRedactLocationHeader(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"Location", "https://app.example/cb?state=s&access_token=t",
			"https://app.example/cb?state=s&access_token=%5BFILTERED%5D"},
		{"location", "https://bob:pw@app.example/cb",
			"https://bob:%5BFILTERED%5D@app.example/cb"},
		{"LOCATION", "/next?page=2&api_key=k",
			"/next?page=2&api_key=%5BFILTERED%5D"},
		{"Location", "https://app.example/cb#access_token=t&token_type=bearer&state=s",
			"https://app.example/cb#access_token=%5BFILTERED%5D&token_type=%5BFILTERED%5D&state=s"},
		{"Content-Location", "https://v.example/x?password=p",
			"https://v.example/x?password=%5BFILTERED%5D"},
		{"Location", "https://app.example/done?page=2", "https://app.example/done?page=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.in, func(t *testing.T) {
			in := journal.Exchange{Response: &journal.Response{Status: 302, Headers: map[string]string{tt.name: tt.in}}}
			if got := journal.Redact(in).Response.Headers[tt.name]; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
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
		{
			name: "wider keys",
			in:   `{"Authorization":"Bearer x","x-api-key":"k","apiKey":"k","my_api_key_id":"k","private_key":"pk","privateKey":"pk","db_passwd":"p","credentials":{"u":"a"},"client_secret":"c","session_token":"s","SessionToken":"s"}`,
			want: `{"Authorization":"[FILTERED]","x-api-key":"[FILTERED]","apiKey":"[FILTERED]","my_api_key_id":"[FILTERED]","private_key":"[FILTERED]","privateKey":"[FILTERED]","db_passwd":"[FILTERED]","credentials":"[FILTERED]","client_secret":"[FILTERED]","session_token":"[FILTERED]","SessionToken":"[FILTERED]"}`,
		},
		{
			name: "session ids, authors and plain keys are not secrets",
			in:   `{"session_id":"s-1","sessionId":"s-2","session":"x","author":"ann","key":"sku-1","public_key_id":"pk-1"}`,
			want: `{"session_id":"s-1","sessionId":"s-2","session":"x","author":"ann","key":"sku-1","public_key_id":"pk-1"}`,
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

// TestRedactNonJSONBodies: a body that is not valid JSON goes through the
// free-text scrubber that Error goes through. (Until the scrubber, such
// bodies were kept as they were, secrets included; this test asserted
// that.)
func TestRedactNonJSONBodies(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"form", "password=hunter2&token=abc", "password=[FILTERED]&token=[FILTERED]"},
		{"oauth form answer", "access_token=abc&scope=x&expires_in=3600",
			"access_token=[FILTERED]&scope=x&expires_in=3600"},
		{"html", `<html><body>{"password":"p"}</body></html>`,
			`<html><body>{"password":"[FILTERED]"}</body></html>`},
		{"text", "error: \"password\": \"x\" is too short\n",
			"error: \"password\": \"[FILTERED]\" is too short\n"},
		{"truncated JSON", `{"password":"p"`, `{"password":"[FILTERED]"`},
		{"two documents", `{"password":"p"} {"token":"t"}`,
			`{"password":"[FILTERED]"} {"token":"[FILTERED]"}`},
		{"no secrets", "page=2&sort=asc\nnothing to see", "page=2&sort=asc\nnothing to see"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := journal.Redact(journal.Exchange{Response: &journal.Response{Body: tt.body}})
			if got := out.Response.Body; got != tt.want {
				t.Errorf("got body %q, want %q", got, tt.want)
			}
		})
	}

	// A request body is JSON when present; one that is not (an import
	// from elsewhere) is scrubbed the same way rather than let through.
	out := journal.Redact(journal.Exchange{Request: journal.Request{Body: json.RawMessage(`token=abc&a=1`)}})
	if got, want := string(out.Request.Body), "token=[FILTERED]&a=1"; got != want {
		t.Errorf("request body %q, want %q", got, want)
	}
}

func TestRedactError(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"refusal body",
			`vendor answered HTTP 401: {"access_token":"sekrit123","x":1}`,
			`vendor answered HTTP 401: {"access_token":"[FILTERED]","x":1}`},
		{"cut off inside the secret",
			`vendor answered HTTP 400: {"user":"a","password":"hunter2-abcdef…`,
			`vendor answered HTTP 400: {"user":"a","password":"[FILTERED]`},
		{"spaces, number and bare word",
			`{"api_key": 123456 , "token":abc, "n": 2}`,
			`{"api_key": [FILTERED] , "token":[FILTERED], "n": 2}`},
		{"object value taken whole",
			`{"credentials":{"user":"a","pass":"b"},"ok":false}`,
			`{"credentials":[FILTERED],"ok":false}`},
		{"escaped quote inside the secret",
			`{"password":"a\"b","x":1}`,
			`{"password":"[FILTERED]","x":1}`},
		{"JSON inside a JSON string",
			`{"error":"{\"access_token\":\"s3\",\"x\":1}"}`,
			`{"error":"{\"access_token\":\"[FILTERED]\",\"x\":1}"}`},
		{"single quotes",
			`{'password': 'p', 'a': 1}`,
			`{'password': '[FILTERED]', 'a': 1}`},
		{"form pairs",
			"token rejected: grant_type=refresh&refresh_token=r3f&client_secret=cs then",
			"token rejected: grant_type=refresh&refresh_token=[FILTERED]&client_secret=[FILTERED] then"},
		{"escaped form key", "my%5Ftoken=abc&a=1", "my%5Ftoken=[FILTERED]&a=1"},
		{"query in a transport error",
			`Post "https://v.example/api?page=2&token=abc": dial tcp: connection refused`,
			`Post "https://v.example/api?page=2&token=[FILTERED]": dial tcp: connection refused`},
		{"bearer after Authorization",
			"sent Authorization: Bearer eyJ.abc.def and got 401",
			"sent Authorization: Bearer [FILTERED] and got 401"},
		{"basic after proxy-authorization",
			"proxy-authorization: Basic dXNlcjpwYXNz",
			"proxy-authorization: Basic [FILTERED]"},
		{"bearer as a JSON value",
			`{"auth": "Bearer abc"}`,
			`{"auth": "Bearer [FILTERED]"}`},
		{"userinfo password",
			"dial https://bob:hunter2@v.example/x: refused",
			"dial https://bob:[FILTERED]@v.example/x: refused"},
		{"bearer without an Authorization word", "missing Bearer token", "missing Bearer token"},
		{"secret words without a value",
			`vendor answered HTTP 401: invalid token: expired; the password is wrong`,
			`vendor answered HTTP 401: invalid token: expired; the password is wrong`},
		{"no secrets",
			`vendor answered HTTP 500: {"error":"invalid_token","id":"s-1","page":2}`,
			`vendor answered HTTP 500: {"error":"invalid_token","id":"s-1","page":2}`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := journal.Redact(journal.Exchange{Error: tt.in})
			if out.Error != tt.want {
				t.Errorf("\n got %q\nwant %q", out.Error, tt.want)
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
	wantURL := "https://bob:%5BFILTERED%5D@vendor.example/api/x?page=2&access_token=%5BFILTERED%5D&Api-Key=%5BFILTERED%5D#frag"
	if got := out.Request.URL; got != wantURL {
		t.Errorf("URL = %q, want %q", got, wantURL)
	}

	// Query parameters are named like JSON keys, so the wider key list
	// applies to them.
	q := journal.Redact(journal.Exchange{Request: journal.Request{
		Query: map[string]string{"passwd": "p", "private_key": "k", "session_id": "s"},
	}}).Request.Query
	if want := map[string]string{"passwd": journal.Filtered, "private_key": journal.Filtered, "session_id": "s"}; !reflect.DeepEqual(q, want) {
		t.Errorf("query = %v, want %v", q, want)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://v.example/x", "https://v.example/x"},
		{"https://v.example/x?a=1&b=%20", "https://v.example/x?a=1&b=%20"},
		{"https://v.example/x?secret", "https://v.example/x?secret=%5BFILTERED%5D"},
		{"https://v.example/x?my%5Ftoken=t&a=1", "https://v.example/x?my%5Ftoken=%5BFILTERED%5D&a=1"},
		{"https://v.example/x?passwd=p&a=1", "https://v.example/x?passwd=%5BFILTERED%5D&a=1"},
		// A fragment shaped like a query is redacted too: an OAuth
		// implicit grant returns the token there. (This case used to
		// assert the fragment was kept as it was.)
		{"https://v.example/x?a=1#token=t", "https://v.example/x?a=1#token=%5BFILTERED%5D"},
		// A plain anchor is not a parameter.
		{"https://v.example/docs#token", "https://v.example/docs#token"},
		{"https://v.example/x#a?token=t", "https://v.example/x#a?token=%5BFILTERED%5D"},
		{"http://user:pass@host/x", "http://user:%5BFILTERED%5D@host/x"},
		{"http://user:p%40ss:w@host:8080?token=t", "http://user:%5BFILTERED%5D@host:8080?token=%5BFILTERED%5D"},
		{"http://user:p@ss@host/x", "http://user:%5BFILTERED%5D@host/x"},
		{"//user:pass@host/x", "//user:%5BFILTERED%5D@host/x"},
		{"http://user@host/x", "http://user@host/x"},
		{"http://user:@host/x", "http://user:@host/x"},
		{"http://host/x?next=a:b@c", "http://host/x?next=a:b@c"},
		{"/relative/user:pass@x", "/relative/user:pass@x"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			out := journal.Redact(journal.Exchange{Request: journal.Request{URL: tt.in}})
			if got := out.Request.URL; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// A URL that parsed still parses: HAR's queryString and
			// replay's target are read from it.
			if _, err := url.Parse(tt.in); err == nil {
				if _, err := url.Parse(out.Request.URL); err != nil {
					t.Errorf("redacted URL no longer parses: %v", err)
				}
			}
		})
	}
}

// TestRedactHAR: WriteHAR takes redirectURL from the Location header and
// the comment from Error, so a HAR of a redacted exchange must carry
// neither the password nor the tokens they held.
func TestRedactHAR(t *testing.T) {
	x := journal.Exchange{
		ID: 7, Workspace: "acme", Event: "subscription.create",
		Request: journal.Request{Method: "GET", URL: "https://bob:pw-1@v.example/login?page=1&token=tok-2"},
		Response: &journal.Response{
			Status:  302,
			Headers: map[string]string{"location": "https://bob:pw-3@app.example/cb?state=s&access_token=tok-4#id_token=tok-5"},
		},
		Outcome:   journal.OutcomeRefused,
		Error:     `vendor answered HTTP 302: {"api_key":"tok-6"}`,
		StartedAt: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC),
	}
	var buf bytes.Buffer
	if err := journal.WriteHAR(&buf, []journal.Exchange{journal.Redact(x)}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"pw-1", "tok-2", "pw-3", "tok-4", "tok-5", "tok-6"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("HAR holds %q:\n%s", secret, buf.String())
		}
	}
	var har struct {
		Log struct {
			Entries []struct {
				Response struct {
					RedirectURL string `json:"redirectURL"`
				} `json:"response"`
				Comment string `json:"comment"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(buf.Bytes(), &har); err != nil || len(har.Log.Entries) != 1 {
		t.Fatalf("HAR does not parse (%v):\n%s", err, buf.String())
	}
	e := har.Log.Entries[0]
	if got, want := e.Response.RedirectURL, "https://bob:%5BFILTERED%5D@app.example/cb?state=s&access_token=%5BFILTERED%5D#id_token=%5BFILTERED%5D"; got != want {
		t.Errorf("redirectURL = %q, want %q", got, want)
	}
	if got, want := e.Comment, `outcome: refused; error: vendor answered HTTP 302: {"api_key":"[FILTERED]"}`; got != want {
		t.Errorf("comment = %q, want %q", got, want)
	}
}

func TestRedactDoesNotModifyItsInput(t *testing.T) {
	in := redactSample()
	out := journal.Redact(in)
	if want := redactSample(); !reflect.DeepEqual(in, want) {
		t.Fatalf("Redact modified its input:\n got %+v\nwant %+v", in, want)
	}
	for _, c := range []struct{ what, got, want string }{
		{"Authorization", out.Request.Headers["Authorization"], journal.Filtered},
		{"Set-Cookie", out.Response.Headers["Set-Cookie"], journal.Filtered},
		{"response body", out.Response.Body, `{"id":"s-1","token":"[FILTERED]"}`},
		{"location", out.Response.Headers["location"], "https://bob:%5BFILTERED%5D@app.example/cb?state=s&token=%5BFILTERED%5D#access_token=%5BFILTERED%5D"},
		{"URL", out.Request.URL, "https://bob:%5BFILTERED%5D@vendor.example/api/x?page=2&access_token=%5BFILTERED%5D&Api-Key=%5BFILTERED%5D#frag"},
		{"Error", out.Error, `vendor answered HTTP 401: {"access_token":"[FILTERED]","x":1}`},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}

	// The copy shares nothing with the input: writing to it leaves the
	// input alone.
	out.Request.Headers["Content-Type"] = "changed"
	out.Request.Query["page"] = "changed"
	out.Response.Headers["Content-Type"] = "changed"
	out.Response.Headers["location"] = "changed"
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

	in.Request.Body = json.RawMessage(`a=1`)
	out = journal.Redact(in)
	out.Request.Body[0] = 'b'
	if got, want := string(in.Request.Body), `a=1`; got != want {
		t.Errorf("an unredacted non-JSON body is shared with the input: input became %s, want %s", got, want)
	}
}
