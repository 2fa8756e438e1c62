package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
)

// MaxDeliveryTimeoutMS is the largest timeout_ms a delivery may ask for,
// the same bound as the workspace's own timeout_ms.
const MaxDeliveryTimeoutMS = 300_000

// Delivery is how the vendor calls of one request are delivered: the
// faults a real platform's network and queues produce now and then, on
// demand, so that a vendor can prove it survives them (issue 6's
// per-step faults). The zero Delivery delivers normally.
type Delivery struct {
	// TimeoutMS, when positive, replaces the workspace's timeout_ms for
	// the request's calls.
	TimeoutMS int
	// Duplicate delivers each call a second time, identical, right after
	// the first answer; only the first answer counts.
	Duplicate bool
	// ExtraFields adds unknown members to every call's JSON body (see
	// vendorapi.InjectExtraFields).
	ExtraFields bool
	// Late delivers the subject's previous call again once the request's
	// operation is done: a stale event arriving out of order.
	Late bool
}

// String is the header form of d, "" for the zero Delivery; ParseDelivery
// reads it back.
func (d Delivery) String() string {
	var parts []string
	if d.TimeoutMS > 0 {
		parts = append(parts, "timeout_ms="+strconv.Itoa(d.TimeoutMS))
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{d.Duplicate, "duplicate"}, {d.ExtraFields, "extra_fields"}, {d.Late, "late"}} {
		if f.on {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, ",")
}

// ParseDelivery reads the X-Apsandbox-Delivery header: a comma-separated
// list of timeout_ms=N (1..300000), duplicate, extra_fields and late,
// each at most once, spaces around items allowed. A blank value is the
// zero Delivery, so that a client may always send the header (String of
// the zero Delivery is ""). The error says what is wrong, for the caller
// to name the header.
func ParseDelivery(s string) (Delivery, error) {
	var d Delivery
	if strings.TrimSpace(s) == "" {
		return d, nil
	}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		name, value, hasValue := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		if item == "" {
			return Delivery{}, fmt.Errorf("has an empty item in %q; give a comma-separated list of timeout_ms=N, duplicate, extra_fields, late", s)
		}
		if seen[name] {
			return Delivery{}, fmt.Errorf("names %s twice", name)
		}
		seen[name] = true
		switch name {
		case "timeout_ms":
			value = strings.TrimSpace(value)
			n, err := strconv.Atoi(value)
			switch {
			case !hasValue || value == "":
				return Delivery{}, fmt.Errorf("timeout_ms needs a value: timeout_ms=N milliseconds, 1 to %d", MaxDeliveryTimeoutMS)
			case err != nil || n < 1 || n > MaxDeliveryTimeoutMS:
				return Delivery{}, fmt.Errorf("timeout_ms must be an integer from 1 to %d, got %q", MaxDeliveryTimeoutMS, value)
			}
			d.TimeoutMS = n
		case "duplicate", "extra_fields", "late":
			if hasValue {
				return Delivery{}, fmt.Errorf("%s takes no value, got %q", name, item)
			}
			switch name {
			case "duplicate":
				d.Duplicate = true
			case "extra_fields":
				d.ExtraFields = true
			default:
				d.Late = true
			}
		default:
			return Delivery{}, fmt.Errorf("has unknown item %q; known: timeout_ms=N, duplicate, extra_fields, late", item)
		}
	}
	return d, nil
}

type deliveryKey struct{}

// WithDelivery makes the vendor calls of the operations made with ctx
// delivered as d says. The operator API sets it from the
// X-Apsandbox-Delivery header; clock-driven calls never carry one.
func WithDelivery(ctx context.Context, d Delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}

// DeliveryOf is the Delivery of ctx, the zero one when none was set.
func DeliveryOf(ctx context.Context) Delivery {
	d, _ := ctx.Value(deliveryKey{}).(Delivery)
	return d
}

// withoutLate is ctx with the late delivery turned off: for the second
// half of an operation (the activation that follows a renewal of a
// stopped subscription), so that the stale call comes once, at the end.
func withoutLate(ctx context.Context) context.Context {
	d := DeliveryOf(ctx)
	if !d.Late {
		return ctx
	}
	d.Late = false
	return WithDelivery(ctx, d)
}

// shape applies the faults that change the call itself.
func (d Delivery) shape(call vendorapi.Call) vendorapi.Call {
	if d.TimeoutMS > 0 {
		call.Settings.TimeoutMS = d.TimeoutMS
	}
	if d.ExtraFields && call.Body != nil {
		// Encoded here rather than in Send, so that a duplicate is the
		// identical bytes. A body that cannot be encoded is left for Send
		// to fail on, as it would without the fault.
		if raw, err := json.Marshal(call.Body); err == nil {
			call.Body = json.RawMessage(vendorapi.InjectExtraFields(raw))
		}
	}
	return call
}

// delivered is one vendor call as ctx's Delivery made it: the answer the
// platform acts on, and every exchange to record with it.
type delivered struct {
	// ans is the first answer; the only one applied.
	ans vendorapi.Answer
	// xs are the exchanges: the call, then its duplicate if any.
	xs []*journal.Exchange
	// warnings tell the operator what the extra deliveries showed.
	warnings []string
}

// deliver makes call as ctx's Delivery says and records it (with why it
// was made). Like Send it never fails. Call it without any lock held.
func (p *Platform) deliver(ctx context.Context, call vendorapi.Call, now time.Time, action string, subID, orderID, userID int64) delivered {
	d := DeliveryOf(ctx)
	call = d.shape(call)
	ans := p.client.Send(context.WithoutCancel(ctx), call)
	out := delivered{ans: ans, xs: []*journal.Exchange{exchange(ctx, ans, now, action, subID, orderID, userID)}}
	if !d.Duplicate {
		return out
	}
	dup := p.client.Send(context.WithoutCancel(ctx), call)
	out.xs = append(out.xs, exchange(ctx, dup, now, action+".duplicate", subID, orderID, userID))
	switch {
	case ans.OK && !dup.OK:
		out.warnings = append(out.warnings, fmt.Sprintf("the vendor refused the duplicate %s call it had accepted: %s", call.Event, dup.Message))
	case call.ExpectID && ans.OK && dup.ID != ans.ID:
		out.warnings = append(out.warnings, fmt.Sprintf("the vendor answered the duplicate create with another id: %q, first %q", dup.ID, ans.ID))
	}
	return out
}

// first is the exchange whose answer is applied.
func (d delivered) first() *journal.Exchange { return d.xs[0] }

// ids are the recorded exchanges' ids, once committed.
func (d delivered) ids() []int64 {
	ids := make([]int64, len(d.xs))
	for i, x := range d.xs {
		ids[i] = x.ID
	}
	return ids
}

// lateDelivery is what delivering a stale call produced.
type lateDelivery struct {
	// id is the late exchange's, 0 when nothing was delivered.
	id      int64
	warning string
}

// deliverLate, when ctx asks for it, delivers the previous call of a
// subscription (or user) again, after the request's operation, whose
// exchanges are ids, was answered and applied: an event the platform's
// queue delivers late and out of order. The previous call is the most
// recent exchange of the subject recorded before the operation's first.
// Its answer is recorded and changes nothing; a refusal is a warning, as
// is having no previous call. Call it without any lock held.
func (p *Platform) deliverLate(ctx context.Context, name string, f journal.Filter, ids []int64) (lateDelivery, error) {
	if !DeliveryOf(ctx).Late {
		return lateDelivery{}, nil
	}
	subject := "subscription"
	if f.UserID != 0 {
		subject = "user"
	}
	if len(ids) == 0 {
		return lateDelivery{warning: "late: the operation made no vendor call, so nothing was delivered late"}, nil
	}
	var prev *journal.Exchange
	if first := slices.Min(ids); first > 1 {
		f.UntilID = first - 1
		xs, err := p.store.List(context.WithoutCancel(ctx), name, f)
		if err != nil {
			return lateDelivery{}, err
		}
		if len(xs) > 0 {
			prev = &xs[len(xs)-1]
		}
	}
	if prev == nil {
		return lateDelivery{warning: fmt.Sprintf("late: the %s had no earlier vendor call, so nothing was delivered late", subject)}, nil
	}
	ws, err := p.lock(name)
	if err != nil {
		return lateDelivery{}, err
	}
	set := cloneSettings(ws.settings)
	now := ws.clock
	ws.mu.Unlock()
	target, err := lateURL(set.APIPath, prev.Request)
	if err != nil {
		return lateDelivery{warning: fmt.Sprintf("late: exchange %d cannot be delivered again: %v", prev.ID, err)}, nil
	}
	timeout := set.Timeout()
	if ms := DeliveryOf(ctx).TimeoutMS; ms > 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	x := p.client.Resend(context.WithoutCancel(ctx), prev.Request, target, timeout)
	x.Event = prev.Event
	x.SubscriptionID, x.OrderID, x.UserID = prev.SubscriptionID, prev.OrderID, prev.UserID
	x.VirtualTime = now
	x.Action = prev.Action + ".late"
	x.RunID = RunID(ctx)
	if err := p.commitExchange(ws, &x); err != nil {
		return lateDelivery{}, err
	}
	out := lateDelivery{id: x.ID}
	if x.Outcome != journal.OutcomeOK {
		out.warning = fmt.Sprintf("late: the vendor did not accept the stale %s call (exchange %d, a repeat of exchange %d): %s", prev.Event, x.ID, prev.ID, x.Error)
	}
	return out, nil
}

// lateURL is where a stale call goes: the workspace's api_path now, with
// the recorded endpoint and query. The recorded URL itself is not
// trusted: an imported journal may name any host.
func lateURL(apiPath string, rec journal.Request) (string, error) {
	if apiPath == "" {
		return "", fmt.Errorf("the workspace has no api_path")
	}
	if rec.Endpoint == "" {
		return "", fmt.Errorf("its record has no endpoint")
	}
	u, err := url.Parse(rec.URL)
	if err != nil {
		return "", err
	}
	target := strings.TrimRight(apiPath, "/") + rec.Endpoint
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return target, nil
}

// addTo adds a late delivery to an operation's exchange ids and warnings.
func (l lateDelivery) addTo(ids *[]int64, warnings *[]string) {
	if l.id != 0 {
		*ids = append(*ids, l.id)
	}
	if l.warning != "" {
		*warnings = append(*warnings, l.warning)
	}
}
