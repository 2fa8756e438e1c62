package replay

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

// Sender sends one recorded request again. vendorapi.Client is one; the
// interface lives here so that replay does not depend on how calls are
// made.
type Sender interface {
	Resend(ctx context.Context, req journal.Request, url string, timeout time.Duration) journal.Exchange
}

// Options shape a replay.
type Options struct {
	// Target is the vendor base URL to replay against; each exchange goes
	// to Target + its recorded endpoint + its recorded query. "" sends each
	// to the URL it was recorded with.
	Target string
	// Ignore holds the patterns whose differences do not count.
	Ignore []Pattern
	// Timeout bounds each call; 0 means the sender's default.
	Timeout time.Duration
	// Headers are set on every request, replacing recorded ones: the way
	// to supply a secret that an export redacted.
	Headers map[string]string
	// Redact, when set, is applied to each replayed answer before it is
	// compared, so that a report shows no more than its reader may see
	// (journal.Redact for a caller without the control token).
	Redact func(journal.Exchange) journal.Exchange
}

// Run re-sends xs in order and compares each answer with the recorded
// one. It never stops early: a vendor that is down gives a report of
// failed items, not an error. ctx ends the run; the items not sent are
// reported failed.
func Run(ctx context.Context, s Sender, xs []journal.Exchange, o Options) Report {
	r := Report{Target: o.Target, Ignore: []string{}, Items: []Item{}}
	for _, p := range o.Ignore {
		r.Ignore = append(r.Ignore, p.String())
	}
	for _, x := range xs {
		target, err := TargetURL(x.Request, o.Target)
		it := Item{ExchangeID: x.ID, Event: x.Event, Method: x.Request.Method, URL: target}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			it.Diff = Compare(x.Response, nil, o.Ignore)
			it.Error = "not sent: " + err.Error()
			r.Add(it)
			continue
		}
		got := s.Resend(ctx, prepare(x.Request, o.Headers), target, o.Timeout)
		if o.Redact != nil {
			got = o.Redact(got)
		}
		it.DurationMS = got.DurationMS
		it.Diff = Compare(x.Response, got.Response, o.Ignore)
		if got.Response == nil {
			it.Error = got.Error
		}
		r.Add(it)
	}
	return r
}

// TargetURL is where a recorded request goes on replay against base:
// base + endpoint, with the recorded query. Without a base it is the
// recorded URL. With one, the call must land on base's host: a request
// recorded without an endpoint, or whose endpoint would lead elsewhere
// ("@evil.example/x"), is refused rather than sent to the recorded URL,
// since a replay aimed at staging must never reach production.
func TargetURL(req journal.Request, base string) (string, error) {
	if base == "" {
		return req.URL, nil
	}
	if req.Endpoint == "" {
		return "", fmt.Errorf("recorded without an endpoint, so it cannot be aimed at %s", base)
	}
	if !strings.HasPrefix(req.Endpoint, "/") {
		return "", fmt.Errorf("endpoint %q does not start with /", req.Endpoint)
	}
	u := strings.TrimRight(base, "/") + req.Endpoint
	if rec, err := url.Parse(req.URL); err == nil && rec.RawQuery != "" {
		u += "?" + rec.RawQuery
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("base URL: %v", err)
	}
	t, err := url.Parse(u)
	if err != nil || t.Scheme != b.Scheme || t.Host != b.Host || t.User.String() != b.User.String() {
		return "", fmt.Errorf("endpoint %q would leave %s", req.Endpoint, base)
	}
	return u, nil
}

// prepare drops headers an export redacted — sending "[FILTERED]" as a
// token would only earn a 401 — and applies the replay's own headers.
func prepare(req journal.Request, headers map[string]string) journal.Request {
	h := make(map[string]string, len(req.Headers)+len(headers))
	for k, v := range req.Headers {
		if v != journal.Filtered {
			h[k] = v
		}
	}
	for k, v := range headers {
		for old := range h {
			if strings.EqualFold(old, k) {
				delete(h, old)
			}
		}
		h[k] = v
	}
	req.Headers = h
	return req
}
