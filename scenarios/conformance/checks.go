package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/client"
)

func checkIntegration(ctx context.Context, p *probe) error {
	r, err := p.sb.CheckIntegrationWithResponse(ctx, p.ws, p.as(""))
	if err != nil || r.JSON200 == nil {
		return setupError{fmt.Errorf("integration check: %v", err)}
	}
	p.exchanges = append(p.exchanges, r.JSON200.ExchangeID)
	if !r.JSON200.Ready {
		return fmt.Errorf("POST %s was not answered 2xx: %s", r.JSON200.URL, r.JSON200.Message)
	}
	return nil
}

// deliveredTwice reads the two exchanges of a duplicated delivery.
func (p *probe) deliveredTwice(ctx context.Context, res *client.OperationResult, what string) (first, second client.Exchange, err error) {
	if len(res.ExchangeIds) < 2 {
		return first, second, setupError{fmt.Errorf("the sandbox made %d %s calls for a duplicate delivery, want 2 (does it support %s?)", len(res.ExchangeIds), what, DeliveryHeader)}
	}
	if first, err = p.exchange(ctx, res.ExchangeIds[0]); err != nil {
		return
	}
	second, err = p.exchange(ctx, res.ExchangeIds[1])
	return
}

func checkCreateIdempotent(ctx context.Context, p *probe) error {
	res, err := p.order(ctx, "duplicate")
	if err != nil {
		return err
	}
	first, second, err := p.deliveredTwice(ctx, res, "create")
	if err != nil {
		return err
	}
	if !ok2xx(second) {
		return fmt.Errorf("the same create delivered again was answered %s", answered(second))
	}
	id1, id2 := answerID(first), answerID(second)
	if id1 == "" || id1 != id2 {
		return fmt.Errorf("the same create delivered twice got ids %q and %q: the vendor made two subscriptions for one", id1, id2)
	}
	return nil
}

// answerID is the "id" of a create answer, a string or a number.
func answerID(x client.Exchange) string {
	if x.Response == nil {
		return ""
	}
	var b struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal([]byte(x.Response.Body), &b) != nil || len(b.ID) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(b.ID, &s) == nil {
		return s
	}
	return string(b.ID)
}

// checkUnknownSubscription renews and stops seeded subscriptions: they
// carry external ids the vendor never handed out.
func checkUnknownSubscription(ctx context.Context, p *probe) error {
	status := client.SubscriptionStatusActive
	l, err := p.sb.ListSubscriptionsWithResponse(ctx, p.ws, &client.ListSubscriptionsParams{Status: &status})
	if err != nil || l.JSON200 == nil {
		return setupError{fmt.Errorf("list subscriptions: %v", err)}
	}
	var sub *client.Subscription
	for i, s := range l.JSON200.Items {
		if s.ExternalID != "" && s.Ability.Renew {
			sub = &l.JSON200.Items[i]
			break
		}
	}
	if sub == nil {
		return setupError{fmt.Errorf("the world of seed %d has no renewable seeded subscription", p.seed)}
	}
	for _, op := range []string{"renew", "stop"} {
		var res *client.OperationResult
		if op == "renew" {
			res, err = p.renew(ctx, sub.ID, "")
		} else {
			res, err = p.simple(ctx, op, sub.ID)
		}
		if err != nil {
			return err
		}
		if len(res.ExchangeIds) == 0 {
			return setupError{fmt.Errorf("%s of subscription %d made no call", op, sub.ID)}
		}
		x, err := p.exchange(ctx, res.ExchangeIds[len(res.ExchangeIds)-1])
		if err != nil {
			return err
		}
		switch {
		case x.Response == nil:
			return fmt.Errorf("/subscription/%s for unknown external_id %s: %s", op, sub.ExternalID, answered(x))
		case ok2xx(x):
			return fmt.Errorf("/subscription/%s for external_id %s, which the vendor never created, was accepted (%s)", op, sub.ExternalID, answered(x))
		case taskMessage(x.Response.Body) == "":
			return fmt.Errorf("/subscription/%s for unknown external_id %s was refused without the task envelope {\"task\":{\"error_message\"}}: %s", op, sub.ExternalID, answered(x))
		}
		// A refused renewal leaves it renewing_failed, from which a
		// stop is still allowed.
	}
	return nil
}

func checkDuplicateDelivery(ctx context.Context, p *probe) error {
	o, err := p.order(ctx, "")
	if err != nil {
		return err
	}
	res, err := p.renew(ctx, o.Subscription.ID, "duplicate")
	if err != nil {
		return err
	}
	first, second, err := p.deliveredTwice(ctx, res, "renew")
	if err != nil {
		return err
	}
	if !ok2xx(first) {
		return fmt.Errorf("the renewal was refused: %s", answered(first))
	}
	if !ok2xx(second) {
		return fmt.Errorf("the same renewal delivered again was answered %s", answered(second))
	}
	return nil
}

func checkOutOfOrder(ctx context.Context, p *probe) error {
	o, err := p.order(ctx, "")
	if err != nil {
		return err
	}
	id := o.Subscription.ID
	if r, err := p.renew(ctx, id, ""); err != nil {
		return err
	} else if r.Subscription.Status != client.SubscriptionStatusActive {
		return fmt.Errorf("the renewal was refused: %s", r.Subscription.LastError)
	}
	// A stop, and then the renewal again, late: a stale event.
	stop, err := p.sb.StopSubscriptionWithResponse(ctx, p.ws, id, p.as("late"))
	if err != nil {
		return setupError{err}
	}
	res, err := p.result("stop", stop.StatusCode(), stop.Body, stop.JSON200)
	if err != nil {
		return err
	}
	if res.Subscription.Status != client.SubscriptionStatusStopped {
		return fmt.Errorf("stopping the subscription failed: %s", res.Subscription.LastError)
	}
	if len(res.ExchangeIds) < 2 {
		return setupError{fmt.Errorf("the sandbox made no late delivery (does it support %s?)", DeliveryHeader)}
	}
	late, err := p.exchange(ctx, res.ExchangeIds[len(res.ExchangeIds)-1])
	if err != nil {
		return err
	}
	switch {
	case late.Response == nil:
		return fmt.Errorf("the stale renewal arriving after the stop got %s", answered(late))
	case late.Response.Status >= 500:
		return fmt.Errorf("the stale renewal arriving after the stop was answered with a server error: %s", answered(late))
	case !ok2xx(late) && taskMessage(late.Response.Body) == "":
		return fmt.Errorf("the stale renewal was refused without the task envelope: %s", answered(late))
	}
	// The vendor's state survived: the subscription comes back.
	r, err := p.simple(ctx, "activate", id)
	if err != nil {
		return err
	}
	if r.Subscription.LastError != "" || strings.HasSuffix(string(r.Subscription.Status), "_failed") {
		return fmt.Errorf("after the stale renewal, activating the subscription failed: %s", r.Subscription.LastError)
	}
	return nil
}

func checkUnknownFields(ctx context.Context, p *probe) error {
	o, err := p.order(ctx, "extra_fields")
	if err != nil {
		return fmt.Errorf("with unknown fields in the body: %w", err)
	}
	r, err := p.renew(ctx, o.Subscription.ID, "extra_fields")
	if err != nil {
		return err
	}
	if r.Subscription.Status != client.SubscriptionStatusActive {
		return fmt.Errorf("a renewal with unknown fields in the body was refused: %s", r.Subscription.LastError)
	}
	return nil
}

func checkTimeBudget(ctx context.Context, p *probe) error {
	o, err := p.order(ctx, "")
	if err != nil {
		return err
	}
	// Only the time is judged here: a refusal (another check's business)
	// ends the sequence, not the check.
	id, ability := o.Subscription.ID, o.Subscription.Ability
	for _, op := range []string{"renew", "stop", "activate", "delete"} {
		allowed := map[string]bool{"renew": ability.Renew, "stop": ability.Stop, "activate": ability.Activate, "delete": ability.Delete}[op]
		if !allowed {
			break
		}
		var r *client.OperationResult
		if op == "renew" {
			r, err = p.renew(ctx, id, "")
		} else {
			r, err = p.simple(ctx, op, id)
		}
		if err != nil {
			return err
		}
		ability = r.Subscription.Ability
	}
	var slow []string
	for _, xid := range p.exchanges {
		x, err := p.exchange(ctx, xid)
		if err != nil {
			return err
		}
		took := time.Duration(x.DurationMs * float64(time.Millisecond))
		if x.Outcome == client.OutcomeTimeout || took > p.opts.Budget {
			slow = append(slow, fmt.Sprintf("%s took %s", x.Request.Path, took.Round(time.Millisecond)))
		}
	}
	if len(slow) > 0 {
		return fmt.Errorf("over the %s budget: %v", p.opts.Budget, slow)
	}
	return nil
}
