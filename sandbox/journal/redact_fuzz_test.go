package journal_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

// FuzzRedactDoesNotLeak puts one secret in every place Redact must find
// it, around text the fuzzer chooses, and checks that the secret is
// nowhere in the encoded result and that Redact does not panic. The
// surrounding text is where a vendor's message differs from ours: stray
// quotes, backslashes, half a JSON document or a form pair must not make
// the scrubber lose its place.
func FuzzRedactDoesNotLeak(f *testing.F) {
	f.Add([]byte("abc123"), "")
	f.Add([]byte("x"), `{"error":"bad request","password":"`)
	f.Add([]byte("eyJhbGciOi.J9"), `token=\"&a=1 Authorization: Bearer`)
	f.Add([]byte{0xff, 'Q', 0}, `"note":"it's \"quoted\"`)
	f.Add([]byte("zz"), `{"credentials":{"u":"a","p":["`)
	f.Add([]byte("9"), `\\\"secret\\\":\\\"`)
	f.Fuzz(func(t *testing.T, raw []byte, noise string) {
		secret := "S3CR3T-" + alnum(raw)
		if strings.Contains(noise, "S3CR3T") {
			t.Skip("the noise holds the marker itself")
		}
		body, err := json.Marshal(map[string]any{"note": noise, "password": secret, "n": 1})
		if err != nil {
			t.Fatal(err)
		}
		x := journal.Exchange{
			Request: journal.Request{
				Method: "POST",
				URL: "https://bob:" + secret + "@v.example/x?q=" + url.QueryEscape(noise) +
					"&token=" + secret,
				Query:   map[string]string{"q": noise, "token": secret},
				Headers: map[string]string{"Authorization": "Bearer " + secret, "X-Note": noise},
				Body:    body,
			},
			Response: &journal.Response{
				Status: 401,
				Headers: map[string]string{
					"Location": "https://app.example/cb?state=" + url.QueryEscape(noise) + "&access_token=" + secret,
				},
				Body: noise + "&access_token=" + secret + "&scope=x",
			},
			Outcome: journal.OutcomeRefused,
			Error: "vendor answered HTTP 401: " + noise + ` {"api_key":"` + secret + `"} ` +
				noise + " Authorization: Bearer " + secret,
		}
		out, err := json.Marshal(journal.Redact(x))
		if err != nil {
			t.Fatalf("a redacted exchange does not encode: %v", err)
		}
		if strings.Contains(string(out), secret) {
			t.Errorf("secret %q leaked:\n%s", secret, out)
		}
	})
}

// alnum keeps the ASCII letters and digits of b, so the secret is one
// word that JSON encodes as it is.
func alnum(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			s.WriteByte(c)
		}
	}
	return s.String()
}
