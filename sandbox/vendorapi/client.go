package vendorapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

// maxBody caps how much of a vendor's answer is read and recorded, so a
// vendor streaming garbage cannot exhaust the sandbox's memory.
const maxBody = 1 << 20

// Client sends events to vendor services. It is safe for concurrent use.
type Client struct {
	http      *http.Client
	userAgent string
}

// NewClient returns a client using hc (nil: a client with sane transport
// limits) and identifying itself with the given version.
func NewClient(hc *http.Client, version string) *Client {
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	// Vendors must not move the platform elsewhere: a redirect is an answer.
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{http: &c, userAgent: "apsandbox/" + version}
}

// Call is one event to send.
type Call struct {
	Event      Event
	Settings   Settings
	APGUID     string
	ResellerID int64
	// Body is marshalled as the JSON body.
	Body any
	// ExpectID: a create call, whose success must carry {"id": …}.
	ExpectID bool
}

// Answer is the platform's reading of one exchange.
type Answer struct {
	// Exchange is the record; the caller adds workspace and references.
	Exchange journal.Exchange
	OK       bool
	// Message explains a failure: task.error_message, or the transport
	// error, or what was wrong with a 2xx answer.
	Message string
	// ID and Attributes come from a create answer.
	ID         string
	Attributes map[string]string
	// Body is the raw answer.
	Body []byte
}

// URL is where the call goes.
func (call Call) URL() string {
	u := strings.TrimRight(call.Settings.APIPath, "/") + call.Settings.Path(call.Event)
	if call.Event == EventSubscriptionCreate && call.Settings.OmitCreateQuery {
		return u
	}
	q := url.Values{}
	q.Set("ap_guid", call.APGUID)
	q.Set("reseller_id", strconv.FormatInt(call.ResellerID, 10))
	// ap_guid first, as the documentation writes it.
	return u + "?ap_guid=" + url.QueryEscape(call.APGUID) + "&reseller_id=" + q.Get("reseller_id")
}

// Send makes the call and reads the answer. It never returns an error: a
// failed call is an Answer with OK false, because the platform records and
// shows failures rather than crashing on them.
func (c *Client) Send(ctx context.Context, call Call) Answer {
	started := time.Now()
	target := call.URL()
	var body []byte
	if call.Body != nil {
		var err error
		if body, err = json.Marshal(call.Body); err != nil {
			return c.fail(call, target, nil, started, journal.OutcomeError, "encode body: "+err.Error())
		}
	}
	ctx, cancel := context.WithTimeout(ctx, call.Settings.Timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return c.fail(call, target, body, started, journal.OutcomeError, err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	for _, k := range sortedKeys(call.Settings.Headers) {
		req.Header.Set(k, call.Settings.Headers[k])
	}
	a, resp, done := c.do(req, body, call.Settings.Timeout(), started)
	a.Exchange.Event = string(call.Event)
	a.Exchange.Request.Endpoint = call.Settings.Path(call.Event)
	if done {
		return a
	}
	raw := a.Body
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return finish(a, started, journal.OutcomeRefused, refusal(resp.StatusCode, raw))
	}
	if call.ExpectID {
		var ca struct {
			ID         json.RawMessage   `json:"id"`
			Attributes map[string]string `json:"attributes"`
		}
		if err := json.Unmarshal(raw, &ca); err != nil {
			return finish(a, started, journal.OutcomeRefused, fmt.Sprintf("vendor answered %d but the body is not the documented {\"id\": …}: %v", resp.StatusCode, err))
		}
		id := idString(ca.ID)
		if id == "" {
			return finish(a, started, journal.OutcomeRefused, fmt.Sprintf("vendor answered %d without an id; a create call must return {\"id\": …}", resp.StatusCode))
		}
		a.ID, a.Attributes = id, ca.Attributes
	}
	a.OK = true
	return finish(a, started, journal.OutcomeOK, "")
}

// do sends req and reads the answer. done means the exchange is over (a
// transport failure, recorded in a); otherwise a holds the response and
// the caller judges it.
func (c *Client) do(req *http.Request, body []byte, timeout time.Duration, started time.Time) (a Answer, resp *http.Response, done bool) {
	a = Answer{Exchange: journal.Exchange{
		Request:   recordRequest(req, body),
		StartedAt: started.UTC(),
	}}
	resp, err := c.http.Do(req)
	if err != nil {
		outcome := journal.OutcomeError
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			outcome = journal.OutcomeTimeout
			err = fmt.Errorf("vendor did not answer within %s", timeout)
		}
		return finish(a, started, outcome, transportMessage(err)), nil, true
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	a.Exchange.Response = &journal.Response{Status: resp.StatusCode, Headers: flatten(resp.Header), Body: string(raw)}
	a.Body = raw
	if err != nil {
		outcome := journal.OutcomeError
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			outcome = journal.OutcomeTimeout
		}
		return finish(a, started, outcome, "reading the vendor's answer: "+err.Error()), resp, true
	}
	return a, resp, false
}

// Resend sends a recorded request again, to url, as it was recorded:
// method, headers and body. Replays use it to put a vendor's current
// behaviour next to its recorded one. Like Send it never fails: the
// outcome is in the returned exchange.
func (c *Client) Resend(ctx context.Context, rec journal.Request, url string, timeout time.Duration) journal.Exchange {
	started := time.Now()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := rec.Method
	if method == "" {
		method = http.MethodPost
	}
	body := []byte(rec.Body)
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		x := journal.Exchange{Request: rec, StartedAt: started.UTC()}
		x.Request.URL = url
		return finish(Answer{Exchange: x}, started, journal.OutcomeError, "cannot build the request: "+err.Error()).Exchange
	}
	for _, k := range sortedKeys(rec.Headers) {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Host", "Accept-Encoding", "Connection":
			continue
		}
		req.Header.Set(k, rec.Headers[k])
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	a, resp, done := c.do(req, body, timeout, started)
	a.Exchange.Request.Endpoint = rec.Endpoint
	if done {
		return a.Exchange
	}
	outcome, msg := journal.OutcomeOK, ""
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		outcome, msg = journal.OutcomeRefused, refusal(resp.StatusCode, a.Body)
	}
	return finish(a, started, outcome, msg).Exchange
}

func (c *Client) fail(call Call, target string, body []byte, started time.Time, outcome, msg string) Answer {
	a := Answer{Exchange: journal.Exchange{
		Event:     string(call.Event),
		Request:   journal.Request{Method: http.MethodPost, URL: target, Endpoint: call.Settings.Path(call.Event), Body: jsonOrNil(body)},
		StartedAt: started.UTC(),
	}}
	return finish(a, started, outcome, msg)
}

func finish(a Answer, started time.Time, outcome, msg string) Answer {
	a.Exchange.Outcome = outcome
	a.Exchange.Error = msg
	a.Exchange.DurationMS = float64(time.Since(started).Microseconds()) / 1000
	a.Message = msg
	return a
}

// refusal reads a non-2xx answer: the task envelope's message when there is
// one, else the status and the start of the body.
func refusal(status int, raw []byte) string {
	var te TaskError
	if json.Unmarshal(raw, &te) == nil && te.Task.ErrorMessage != "" {
		return te.Task.ErrorMessage
	}
	text := strings.TrimSpace(string(raw))
	if !utf8.ValidString(text) {
		text = "(binary body)"
	}
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	if text == "" {
		return fmt.Sprintf("vendor answered HTTP %d with an empty body", status)
	}
	return fmt.Sprintf("vendor answered HTTP %d: %s", status, text)
}

func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return "cannot connect to the vendor: " + oe.Err.Error()
	}
	return err.Error()
}

func recordRequest(req *http.Request, body []byte) journal.Request {
	q := map[string]string{}
	for k, v := range req.URL.Query() {
		q[k] = strings.Join(v, ",")
	}
	return journal.Request{
		Method:  req.Method,
		URL:     req.URL.String(),
		Path:    req.URL.Path,
		Query:   q,
		Headers: flatten(req.Header),
		Body:    jsonOrNil(body),
	}
}

func jsonOrNil(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}
