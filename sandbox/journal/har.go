package journal

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) is what
// browsers' developer tools, proxies and HTTP debuggers read, so a vendor
// can open the sandbox's calls in the tools it already uses. The types
// below follow the spec's member order; members the spec requires are
// never omitted, and numbers it cannot know are -1 as it prescribes.

// harTime is how HAR writes a start time: ISO 8601 with milliseconds and
// the zone, as the spec's template (YYYY-MM-DDThh:mm:ss.sTZD) and browsers
// write it. A fixed fraction keeps strict readers happy; the exact
// nanoseconds stay in _apsandbox.
const harTime = "2006-01-02T15:04:05.000Z07:00"

type harFile struct {
	Log harLog `json:"log"`
}

type harLog struct {
	Version string     `json:"version"`
	Creator harCreator `json:"creator"`
	Pages   []struct{} `json:"pages"`
	Entries []harEntry `json:"entries"`
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         harTimings  `json:"timings"`
	Comment         string      `json:"comment,omitempty"`
	// Apsandbox carries what HAR has no place for; the spec reserves
	// names starting with an underscore for such custom members.
	Apsandbox harCustom `json:"_apsandbox"`
}

type harRequest struct {
	Method      string         `json:"method"`
	URL         string         `json:"url"`
	HTTPVersion string         `json:"httpVersion"`
	Cookies     []struct{}     `json:"cookies"`
	Headers     []harNameValue `json:"headers"`
	QueryString []harNameValue `json:"queryString"`
	PostData    *harPostData   `json:"postData,omitempty"`
	HeadersSize int            `json:"headersSize"`
	BodySize    int            `json:"bodySize"`
}

type harResponse struct {
	Status      int            `json:"status"`
	StatusText  string         `json:"statusText"`
	HTTPVersion string         `json:"httpVersion"`
	Cookies     []struct{}     `json:"cookies"`
	Headers     []harNameValue `json:"headers"`
	Content     harContent     `json:"content"`
	RedirectURL string         `json:"redirectURL"`
	HeadersSize int            `json:"headersSize"`
	BodySize    int            `json:"bodySize"`
}

type harNameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPostData struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
}

type harContent struct {
	Size     int    `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
}

type harTimings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

type harCustom struct {
	ID             int64  `json:"id,omitempty"`
	Workspace      string `json:"workspace,omitempty"`
	Event          string `json:"event,omitempty"`
	Outcome        string `json:"outcome,omitempty"`
	Error          string `json:"error,omitempty"`
	SubscriptionID int64  `json:"subscription_id,omitempty"`
	OrderID        int64  `json:"order_id,omitempty"`
	UserID         int64  `json:"user_id,omitempty"`
	Action         string `json:"action,omitempty"`
	RunID          string `json:"run_id,omitempty"`
	StartedAt      string `json:"started_at,omitempty"`
	VirtualTime    string `json:"virtual_time,omitempty"`
}

// WriteHAR writes xs as a HAR 1.2 log, indented, entries in the order the
// calls started (then by id, so equal times still give a stable file).
// creatorVersion is the sandbox's version, recorded as the log's creator.
//
// The sandbox only sees the call as a whole, so the whole duration is
// reported as waiting, and what it cannot know (DNS, connect, header
// sizes) is -1. The sandbox's own view of the call (workspace, event,
// outcome, virtual time…) goes in the custom member "_apsandbox". Redact
// xs first when the file leaves the sandbox.
func WriteHAR(w io.Writer, xs []Exchange, creatorVersion string) error {
	sorted := slices.Clone(xs)
	slices.SortStableFunc(sorted, func(a, b Exchange) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.ID, b.ID))
	})
	log := harLog{
		Version: "1.2",
		Creator: harCreator{Name: "apsandbox", Version: creatorVersion},
		Pages:   []struct{}{},
		Entries: make([]harEntry, 0, len(sorted)),
	}
	for _, x := range sorted {
		log.Entries = append(log.Entries, harEntryOf(&x))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(harFile{Log: log}); err != nil {
		return fmt.Errorf("write HAR: %w", err)
	}
	return nil
}

func harEntryOf(x *Exchange) harEntry {
	return harEntry{
		StartedDateTime: x.StartedAt.Format(harTime),
		Time:            x.DurationMS,
		Request:         harRequestOf(&x.Request),
		Response:        harResponseOf(x.Response),
		Timings:         harTimings{Blocked: -1, DNS: -1, Connect: -1, Wait: x.DurationMS},
		Comment:         harComment(x),
		Apsandbox:       harCustomOf(x),
	}
}

func harRequestOf(r *Request) harRequest {
	req := harRequest{
		Method:      r.Method,
		URL:         r.URL,
		HTTPVersion: "HTTP/1.1",
		Cookies:     []struct{}{},
		Headers:     harHeaders(r.Headers),
		QueryString: harQuery(r),
		HeadersSize: -1,
		BodySize:    len(r.Body),
	}
	if len(r.Body) > 0 {
		req.PostData = &harPostData{
			MimeType: cmp.Or(lookupHeader(r.Headers, "Content-Type"), "application/json"),
			Text:     string(r.Body),
		}
	}
	return req
}

// harResponseOf describes the answer; a call that got none (a timeout, a
// refused connection) still needs a response object in HAR, with status
// 0 and sizes unknown.
func harResponseOf(r *Response) harResponse {
	resp := harResponse{
		HTTPVersion: "HTTP/1.1",
		Cookies:     []struct{}{},
		Headers:     []harNameValue{},
		Content:     harContent{MimeType: "x-unknown"},
		HeadersSize: -1,
		BodySize:    -1,
	}
	if r == nil {
		return resp
	}
	resp.Status = r.Status
	resp.StatusText = http.StatusText(r.Status)
	resp.Headers = harHeaders(r.Headers)
	resp.Content = harContent{
		Size:     len(r.Body),
		MimeType: cmp.Or(lookupHeader(r.Headers, "Content-Type"), "application/octet-stream"),
		Text:     r.Body,
	}
	resp.RedirectURL = lookupHeader(r.Headers, "Location")
	resp.BodySize = len(r.Body)
	return resp
}

// harHeaders lists headers sorted by name, so that the same exchange
// always gives the same file.
func harHeaders(h map[string]string) []harNameValue {
	out := make([]harNameValue, 0, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		out = append(out, harNameValue{Name: name, Value: h[name]})
	}
	return out
}

// harQuery lists the query parameters of the URL actually called, in the
// order they appear there (Request.Query, a map, has lost it). A URL that
// does not parse falls back to Request.Query, sorted.
func harQuery(r *Request) []harNameValue {
	u, err := url.Parse(r.URL)
	if err != nil {
		return harHeaders(r.Query)
	}
	out := []harNameValue{}
	for p := range strings.SplitSeq(u.RawQuery, "&") {
		if p == "" {
			continue
		}
		name, value, _ := strings.Cut(p, "=")
		out = append(out, harNameValue{Name: unescapeQuery(name), Value: unescapeQuery(value)})
	}
	return out
}

// unescapeQuery decodes a query component, keeping it as sent when it is
// not valid escaping: a HAR should show what went over the wire.
func unescapeQuery(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// lookupHeader looks a header up by name, case-insensitively, as HTTP does.
func lookupHeader(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// harComment says, for a HAR viewer that shows nothing else of ours, why
// a call did not succeed.
func harComment(x *Exchange) string {
	if x.Outcome == OutcomeOK {
		return ""
	}
	if x.Error == "" {
		return "outcome: " + x.Outcome
	}
	return fmt.Sprintf("outcome: %s; error: %s", x.Outcome, x.Error)
}

func harCustomOf(x *Exchange) harCustom {
	c := harCustom{
		ID:             x.ID,
		Workspace:      x.Workspace,
		Event:          x.Event,
		Outcome:        x.Outcome,
		Error:          x.Error,
		SubscriptionID: x.SubscriptionID,
		OrderID:        x.OrderID,
		UserID:         x.UserID,
		Action:         x.Action,
		RunID:          x.RunID,
		StartedAt:      x.StartedAt.Format(time.RFC3339Nano),
	}
	if !x.VirtualTime.IsZero() {
		c.VirtualTime = x.VirtualTime.Format(time.RFC3339Nano)
	}
	return c
}
