package journal

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"regexp"
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
// Redacted are:
//
//   - header values, request and response, whose name is Authorization,
//     Proxy-Authorization, Cookie or Set-Cookie, or contains token,
//     secret, password, api-key, apikey or api_key;
//   - in the URL-valued headers Location, Content-Location and Referer,
//     and in Request.URL: the password of the userinfo (the user name is
//     kept, it says whose call it was), and the parameters of the query
//     string, and of a fragment shaped like one (an OAuth implicit grant
//     redirects with #access_token=…), whose name is secret as for JSON
//     keys below;
//   - Request.Query values whose name is secret as for JSON keys below;
//   - in a body that is valid JSON, the value of every object member, at
//     any depth, whose key contains password, passwd, secret, token,
//     authorization, api-key, apikey, api_key, private_key, private-key,
//     privatekey or credential (case-insensitive);
//   - in Error, and in a body that is not valid JSON (a form-encoded
//     answer, an HTML page, a truncated document), read as free text
//     (scrubText): the value of a JSON-ish "key": member and of a
//     key=value pair whose key is secret as for JSON keys, the
//     credential after Bearer or Basic following an Authorization-ish
//     word, and a URL's userinfo password.
//
// A valid JSON body is redacted by its keys only: text inside its string
// values is not scrubbed. Its keys say where secrets are, and guessing at
// the shape of text would also catch ordinary payload (descriptions,
// next-page links) that a vendor diffing exports needs to see as sent.
//
// A JSON body is edited in place, so member order, number spelling and
// layout survive: a diff of two exports shows only what really differs.
// URLs and free text are edited the same way: only the secret values
// change, so a redacted Error still says what went wrong.
func Redact(x Exchange) Exchange {
	x.Request = redactRequest(x.Request)
	if x.Response != nil {
		r := *x.Response
		r.Headers = redactHeaders(r.Headers)
		if r.Body != "" {
			r.Body = string(redactBody([]byte(r.Body)))
		}
		x.Response = &r
	}
	x.Error = scrubText(x.Error)
	return x
}

func redactRequest(r Request) Request {
	r.Headers = redactHeaders(r.Headers)
	r.Query = redactMap(r.Query, secretKey)
	r.URL = redactURL(r.URL)
	r.Body = redactBody(r.Body)
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

// urlHeader reports whether a header's value is a URL, which may carry a
// password or a token in its query although the header itself is not a
// secret: a redirect to an OAuth callback is the usual case.
func urlHeader(name string) bool {
	switch strings.ToLower(name) {
	case "location", "content-location", "referer":
		return true
	}
	return false
}

// secretName reports whether a header name says it holds a secret. It is
// narrower than secretKey on purpose: header names such as
// Access-Control-Allow-Credentials are protocol, not credentials, and
// filtering them would break replay for nothing.
func secretName(name string) bool {
	return containsAny(strings.ToLower(name), "token", "secret", "password", "api-key", "apikey", "api_key")
}

// secretKey reports whether a JSON member's key, a query parameter's name
// or a key in free text says its value is a secret. Matching on parts of
// the name over-redacts a little ("tokens_used", "x_api_key_id") but
// catches the many spellings vendors use for one credential
// (access_token, client_secret, X-Api-Key, privateKey, db_passwd…).
// "session" is left out: session_id and the like are identifiers that
// make an export readable, and session tokens already contain "token".
func secretKey(key string) bool {
	return containsAny(strings.ToLower(key),
		"password", "passwd", "secret", "token", "authorization",
		"api-key", "apikey", "api_key",
		"private_key", "private-key", "privatekey", "credential")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// redactHeaders copies h, filtering secret headers and the secrets inside
// URL-valued ones; a nil map stays nil.
func redactHeaders(h map[string]string) map[string]string {
	out := maps.Clone(h)
	for k, v := range out {
		switch {
		case secretHeader(k):
			out[k] = Filtered
		case urlHeader(k):
			out[k] = redactURL(v)
		}
	}
	return out
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

// redactURL filters the userinfo password and the secret parameters of
// the query string and of a query-shaped fragment. It edits the string
// rather than parsing and re-serialising the URL, so that every other
// byte (parameter order, escaping, a relative reference) is kept and a
// URL that does not parse is still redacted.
func redactURL(raw string) string {
	raw = redactUserinfo(raw)
	rest, frag, hasFrag := strings.Cut(raw, "#")
	if hasFrag && strings.Contains(frag, "=") {
		if f, changed := redactRawQuery(frag); changed {
			frag = f
		}
	}
	if before, query, ok := strings.Cut(rest, "?"); ok {
		if q, changed := redactRawQuery(query); changed {
			rest = before + "?" + q
		}
	}
	if hasFrag {
		return rest + "#" + frag
	}
	return rest
}

// urlAuthority matches what comes before a URL's authority: a scheme and
// "//", or "//" alone for a scheme-relative reference.
var urlAuthority = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//`)

// redactUserinfo replaces the password in "scheme://user:password@host"
// with Filtered, escaped as the query redaction escapes it
// (%5BFILTERED%5D): a bare "[" is not allowed there, and a URL that no
// longer parses would lose its query in HAR exports and replays. The user
// name stays: it is an account, not a credential, and says whose call it
// was.
func redactUserinfo(raw string) string {
	m := urlAuthority.FindStringIndex(raw)
	if m == nil {
		return raw
	}
	start := m[1]
	end := len(raw)
	if i := strings.IndexAny(raw[start:], "/?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndexByte(raw[start:end], '@')
	if at < 0 {
		return raw
	}
	userinfo := raw[start : start+at]
	colon := strings.IndexByte(userinfo, ':')
	if colon < 0 || colon == len(userinfo)-1 {
		return raw
	}
	return raw[:start+colon+1] + url.QueryEscape(Filtered) + raw[start+at:]
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
		if secretKey(name) {
			params[i] = rawKey + "=" + url.QueryEscape(Filtered)
			changed = true
		}
	}
	return strings.Join(params, "&"), changed
}

// redactBody returns a copy of body with its secrets filtered: a valid
// JSON document by its members (redactJSON), anything else as free text
// (scrubText). A nil or empty body comes back as it was.
func redactBody(body []byte) []byte {
	if len(body) == 0 {
		return bytes.Clone(body)
	}
	if !json.Valid(body) {
		return []byte(scrubText(string(body)))
	}
	return redactJSON(body)
}

// redactJSON returns a copy of the valid JSON document body with the
// values of secret members replaced by Filtered; one without secrets
// comes back unchanged (but copied).
func redactJSON(body []byte) []byte {
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

// Free text: Error holds the vendor's own message or the first 200 bytes
// of its answer, often cut in the middle of a JSON document, and a body
// that is not JSON can be anything. Neither can be parsed, so secrets are
// found by their shape instead.
var (
	// textJSONKey finds a quoted key followed by a colon: "key": or,
	// inside JSON that was itself put in a JSON string, \"key\":. Group
	// 1 is the backslashes before the opening quote, group 2 the key.
	// The value is read by hand (textValue): strings may be escaped,
	// cut off, or hold JSON of their own, which a regexp cannot follow.
	textJSONKey = regexp.MustCompile(`(\\*)["']([\w.\-\[\]]+)\\*["']\s*:\s*`)
	// textFormKey finds a form or query parameter name and its "=";
	// group 1 is the name, possibly %-escaped.
	textFormKey = regexp.MustCompile(`([\w.\-\[\]%]+)=`)
	// textAuth finds a credential after the Bearer or Basic scheme, as
	// in "Authorization: Bearer x" or `"auth": "Basic x"`; group 1 is
	// the scheme, repeated schemes included ("Bearer Bearer x"), group
	// 2 the credential. It is filtered only when textAuthWord is found
	// shortly before it (authWindow).
	textAuth = regexp.MustCompile(`(?i)\b((?:(?:bearer|basic)\s+)+)([^\s"'\\,;&{}\[\]()<>]+)`)
	// textAuthWord is an Authorization-ish word: Authorization,
	// Proxy-Authorization, auth, authentication…
	textAuthWord = regexp.MustCompile(`(?i)\bauth`)
	// textUserinfo finds the password of a URL's userinfo; group 1 is
	// the scheme and user, group 2 the password, up to the last "@"
	// before the host.
	textUserinfo = regexp.MustCompile(`(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:"'<>\\]*:)([^\s/?#"'<>\\]+)@`)
)

// scrubText filters secrets in free text, keeping every other byte:
//
//   - the value of a JSON-ish member whose key is secret (secretKey):
//     a quoted string, possibly escaped or cut off (then up to the end),
//     an object or array (up to its end), or a bare word or number (up
//     to "," "}" "]" or the end of the line);
//   - the value of a form or query parameter whose name is secret, up to
//     "&", white space, a quote or the end;
//   - the credential after Bearer or Basic following an
//     Authorization-ish word;
//   - the password of a URL's userinfo.
func scrubText(s string) string {
	if s == "" {
		return s
	}
	s = scrubJSONPairs(s)
	s = scrubFormPairs(s)
	s = scrubAuth(s)
	s = textUserinfo.ReplaceAllString(s, "${1}"+Filtered+"@")
	return s
}

// authWindow is how far before a Bearer or Basic credential, on the same
// line, an Authorization-ish word is looked for. Requiring one keeps
// "missing Bearer token" as it is.
const authWindow = 48

// scrubAuth filters the credentials textAuth finds. The Authorization
// word is looked for behind each match rather than matched with it, so
// that one match cannot swallow the word a later credential needs.
func scrubAuth(s string) string {
	var out strings.Builder
	last := 0
	for _, m := range textAuth.FindAllStringSubmatchIndex(s, -1) {
		before := s[max(m[0]-authWindow, 0):m[0]]
		if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
			before = before[nl+1:]
		}
		if !textAuthWord.MatchString(before) {
			continue
		}
		out.WriteString(s[last:m[4]])
		out.WriteString(Filtered)
		last = m[5]
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// scrubJSONPairs filters the values of secret JSON-ish members in s.
func scrubJSONPairs(s string) string {
	var out strings.Builder
	last := 0
	for pos := 0; pos < len(s); {
		m := textJSONKey.FindStringSubmatchIndex(s[pos:])
		if m == nil {
			break
		}
		valueAt := pos + m[1]
		if !secretKey(s[pos+m[4] : pos+m[5]]) {
			// Not a secret: carry on inside its value, which may
			// hold JSON of its own.
			pos = valueAt
			continue
		}
		level := m[3] - m[2]
		start, end := textValue(s, valueAt, level)
		if start == end {
			pos = valueAt
			continue
		}
		out.WriteString(s[last:start])
		out.WriteString(Filtered)
		last = end
		// Resume at the end of the value, not after its closing quote:
		// in text cut and pasted together, that quote may also open the
		// next key.
		pos = end
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// textValue returns the span of s to filter for the value that starts at
// i (after a key's colon and spaces). level is the number of backslashes
// before the key's quote: 0 in plain JSON, 1 in JSON inside a JSON
// string, and so on. A string's span is its content, without quotes; an
// object or array is taken whole; a value that does not end is taken up
// to the end of s, since a cut-off secret is still a secret.
func textValue(s string, i, level int) (start, end int) {
	if i >= len(s) {
		return i, i
	}
	run := 0
	for i+run < len(s) && s[i+run] == '\\' {
		run++
	}
	if i+run < len(s) && (s[i+run] == '"' || s[i+run] == '\'') {
		return textString(s, i+run+1, s[i+run], run)
	}
	switch s[i] {
	case '{', '[':
		return i, textComposite(s, i, level)
	}
	end = i
	for end < len(s) && !strings.ContainsRune(",}]\r\n\"", rune(s[end])) {
		end++
	}
	for end > i && (s[end-1] == ' ' || s[end-1] == '\t') {
		end--
	}
	return i, end
}

// closesAt reports whether a quote preceded by run backslashes closes a
// string opened by a quote preceded by level backslashes. Each level of
// JSON-in-a-string doubles the backslashes and adds one, so a closing
// quote at level 0 has an even run, at level 1 a run of 1 modulo 4, at
// level 3 a run of 3 modulo 8; a run of another size is an escaped quote
// inside the string.
func closesAt(run, level int) bool {
	return run%(2*(level+1)) == level
}

// backslashesBefore counts the backslashes just before s[j], from lo.
func backslashesBefore(s string, lo, j int) int {
	n := 0
	for j-n-1 >= lo && s[j-n-1] == '\\' {
		n++
	}
	return n
}

// textString returns the content span of a string starting at c, closed
// by quote q preceded by level backslashes (escaped text), or running to
// the end of s when it is not closed.
func textString(s string, c int, q byte, level int) (start, end int) {
	for j := c; j < len(s); j++ {
		if s[j] != q {
			continue
		}
		run := backslashesBefore(s, c, j)
		if closesAt(run, level) {
			return c, j - level
		}
	}
	return c, len(s)
}

// textComposite returns the end of the object or array starting at i,
// counting brackets outside strings, or the end of s when it is cut off.
func textComposite(s string, i, level int) int {
	depth := 0
	inString := false
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '"':
			if closesAt(backslashesBefore(s, i, j), level) {
				inString = !inString
			}
		case '{', '[':
			if !inString {
				depth++
			}
		case '}', ']':
			if !inString {
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
	}
	return len(s)
}

// scrubFormPairs filters the values of secret form or query parameters
// in s.
func scrubFormPairs(s string) string {
	var out strings.Builder
	last := 0
	for pos := 0; pos < len(s); {
		m := textFormKey.FindStringSubmatchIndex(s[pos:])
		if m == nil {
			break
		}
		valueAt := pos + m[1]
		rawKey := s[pos+m[2] : pos+m[3]]
		name, err := url.QueryUnescape(rawKey)
		if err != nil {
			name = rawKey
		}
		if !secretKey(name) {
			// The value may be a URL with a query of its own.
			pos = valueAt
			continue
		}
		end := formValueEnd(s, valueAt)
		if end > valueAt {
			out.WriteString(s[last:valueAt])
			out.WriteString(Filtered)
			last = end
		}
		pos = end
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// formValueEnd returns where a form value starting at i ends: at "&",
// white space, a quote, a backslash escaping a quote, or the end of s.
func formValueEnd(s string, i int) int {
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '&', ' ', '\t', '\r', '\n', '\f', '\v', '"', '\'':
			return j
		case '\\':
			if j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\'' || s[j+1] == '\\') {
				return j
			}
		}
	}
	return len(s)
}
