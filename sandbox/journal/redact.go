package journal

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"strings"
)

// Filtered replaces a secret in a redacted exchange. It is a plain string
// rather than an empty value so that a reader of an export sees that
// something was there, and so that replay can tell a redacted header from
// a real one and leave it out.
const Filtered = "[FILTERED]"

// Redact returns a copy of x with credentials replaced by Filtered.
//
// Exports leave the sandbox: vendors attach them to tickets and share them
// with partners, so tokens, passwords and keys must not travel with them.
// The journal itself keeps the raw record, because replaying a call needs
// the headers that were really sent; redaction therefore happens on the
// way out, on a copy, and never touches x's maps or byte slices.
//
// Redacted are: header values whose name is Authorization,
// Proxy-Authorization, Cookie or Set-Cookie, or contains token, secret,
// password, api-key, apikey or api_key; query parameters named like that,
// both in Request.Query and in the query string of Request.URL; and the
// value of every JSON object member, at any depth of the request or
// response body, whose key contains password, secret or token or is
// api_key or apikey. Bodies that are not JSON are kept as they are. A JSON
// body is edited in place, so member order, number spelling and layout
// survive: a diff of two exports shows only what really differs.
func Redact(x Exchange) Exchange {
	x.Request = redactRequest(x.Request)
	if x.Response != nil {
		r := *x.Response
		r.Headers = redactHeaders(r.Headers)
		r.Body = string(redactJSON([]byte(r.Body)))
		x.Response = &r
	}
	return x
}

func redactRequest(r Request) Request {
	r.Headers = redactHeaders(r.Headers)
	r.Query = redactQuery(r.Query)
	r.URL = redactURL(r.URL)
	r.Body = redactJSON(r.Body)
	return r
}

// secretHeader reports whether a header carries credentials.
func secretHeader(name string) bool {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	return secretName(name)
}

// secretName reports whether a header or query parameter name says it
// holds a secret.
func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "secret", "password", "api-key", "apikey", "api_key"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// secretKey reports whether a JSON member's key says its value is a
// secret. It is narrower than secretName: JSON keys such as "x_api_key_id"
// are common in payloads and are not credentials.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	return k == "api_key" || k == "apikey" ||
		strings.Contains(k, "password") || strings.Contains(k, "secret") || strings.Contains(k, "token")
}

func redactHeaders(h map[string]string) map[string]string {
	return redactMap(h, secretHeader)
}

func redactQuery(q map[string]string) map[string]string {
	return redactMap(q, secretName)
}

// redactMap copies m, filtering the values whose key is secret; a nil map
// stays nil so that a redacted exchange encodes like the original.
func redactMap(m map[string]string, secret func(string) bool) map[string]string {
	out := maps.Clone(m)
	for k := range out {
		if secret(k) {
			out[k] = Filtered
		}
	}
	return out
}

// redactURL filters secret query parameters in a URL's query string. It
// edits the string rather than parsing and re-serialising the URL, so
// that every other byte (parameter order, escaping, fragment) is kept.
func redactURL(raw string) string {
	q := strings.IndexByte(raw, '?')
	if q < 0 {
		return raw
	}
	end := len(raw)
	if f := strings.IndexByte(raw[q:], '#'); f >= 0 {
		end = q + f
	}
	query, changed := redactRawQuery(raw[q+1 : end])
	if !changed {
		return raw
	}
	return raw[:q+1] + query + raw[end:]
}

func redactRawQuery(query string) (string, bool) {
	params := strings.Split(query, "&")
	changed := false
	for i, p := range params {
		rawKey, _, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(rawKey)
		if err != nil {
			name = rawKey
		}
		if secretName(name) {
			params[i] = rawKey + "=" + url.QueryEscape(Filtered)
			changed = true
		}
	}
	return strings.Join(params, "&"), changed
}

// redactJSON returns a copy of body with the values of secret members
// replaced by Filtered. A body that is not valid JSON comes back
// unchanged (but copied), as does one without secrets.
func redactJSON(body []byte) []byte {
	if len(body) == 0 || !json.Valid(body) {
		return bytes.Clone(body)
	}
	spans, err := secretSpans(body)
	if err != nil || len(spans) == 0 {
		return bytes.Clone(body)
	}
	var out bytes.Buffer
	out.Grow(len(body))
	last := 0
	for _, s := range spans {
		out.Write(body[last:s.start])
		out.WriteString(`"` + Filtered + `"`)
		last = s.end
	}
	out.Write(body[last:])
	return out.Bytes()
}

// byteSpan is a byte range [start, end) of a JSON document.
type byteSpan struct{ start, end int }

// secretSpans walks body token by token and returns, in order, the byte
// ranges of the values of secret members. Working on offsets into the
// original bytes, instead of decoding into maps and encoding again, is
// what keeps member order and numbers exactly as the vendor sent them.
func secretSpans(body []byte) ([]byteSpan, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := &spanWalker{dec: dec}
	if err := w.value(); err != nil {
		return nil, err
	}
	return w.spans, nil
}

type spanWalker struct {
	dec   *json.Decoder
	spans []byteSpan
}

// value consumes one JSON value, recording secret members inside it.
func (w *spanWalker) value() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		err = w.members()
	case json.Delim('['):
		err = w.elements()
	default:
		return nil
	}
	if err != nil {
		return err
	}
	_, err = w.dec.Token() // the closing delimiter
	return err
}

func (w *spanWalker) members() error {
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		if key, _ := tok.(string); secretKey(key) {
			err = w.skip()
		} else {
			err = w.value()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *spanWalker) elements() error {
	for w.dec.More() {
		if err := w.value(); err != nil {
			return err
		}
	}
	return nil
}

// skip consumes a secret member's value, whatever its type, and records
// where it lies. The decoder hands back the value's exact bytes without
// surrounding space, so it ends at the input offset and starts len(raw)
// before it.
func (w *spanWalker) skip() error {
	var raw json.RawMessage
	if err := w.dec.Decode(&raw); err != nil {
		return err
	}
	end := int(w.dec.InputOffset())
	w.spans = append(w.spans, byteSpan{start: end - len(raw), end: end})
	return nil
}
