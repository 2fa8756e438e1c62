package vendorapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

// The bodies and answers of the optional call families (reference §4.6 to
// §4.9): resource validation, usage, consumption, order attributes and
// attributes validation. Resource validation and usage send the ordinary
// subscription body (SubscriptionBody); the others are here. Their
// answers are undocumented [GAP]; the readers accept the inferred shapes
// and say exactly what is wrong with anything else, because the operator
// must be able to tell a vendor bug from a sandbox bug.

// ConsumptionPeriod is the window consumption is asked for, RFC 3339.
type ConsumptionPeriod struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ConsumptionEvent is /subscription/consumption's body: the subscription
// body with the period [INF].
type ConsumptionEvent struct {
	SubscriptionEvent
	Period ConsumptionPeriod `json:"period"`
}

// NewConsumptionEvent adds the period [from, to) to a subscription body.
func NewConsumptionEvent(body SubscriptionEvent, from, to time.Time) ConsumptionEvent {
	return ConsumptionEvent{body, ConsumptionPeriod{From: from.UTC().Format(time.RFC3339Nano), To: to.UTC().Format(time.RFC3339Nano)}}
}

// AttributesFor is the panel order attributes are asked for; the
// sandbox's operator acts as a manager.
const AttributesFor = "manager"

// OrderAttributesEvent is /order/attributes's body [DOC].
type OrderAttributesEvent struct {
	Reseller      Reseller    `json:"reseller"`
	Distributor   Distributor `json:"distributor"`
	AttributesFor string      `json:"attributes_for"`
}

// AttributesValidationEvent is /order/attributes_validation's body [GAP]:
// the order attributes body with the values entered and the plan
// ordered, which the vendor may need to judge them.
type AttributesValidationEvent struct {
	OrderAttributesEvent
	Plan       Plan              `json:"plan"`
	Attributes map[string]string `json:"attributes"`
}

// OrderAttributesBody builds /order/attributes's body for a tenant's
// order: its reseller and that reseller's distributor.
func OrderAttributesBody(w *world.World, tenantID int64) (OrderAttributesEvent, error) {
	tn, ok := w.Tenant(tenantID)
	if !ok {
		return OrderAttributesEvent{}, world.NotFound("tenant", tenantID)
	}
	rs, ok := w.Reseller(tn.ResellerID)
	if !ok {
		return OrderAttributesEvent{}, world.NotFound("reseller", tn.ResellerID)
	}
	ds, ok := w.Distributor(rs.DistributorID)
	if !ok {
		return OrderAttributesEvent{}, world.NotFound("distributor", rs.DistributorID)
	}
	return OrderAttributesEvent{Reseller: wireReseller(rs), Distributor: wireDistributor(ds), AttributesFor: AttributesFor}, nil
}

// AttributesValidationBody adds the plan ordered and the values entered.
func AttributesValidationBody(base OrderAttributesEvent, t Target, values map[string]string) AttributesValidationEvent {
	return AttributesValidationEvent{OrderAttributesEvent: base, Plan: wirePlan(t), Attributes: nonNil(values)}
}

// OrderAttribute is one attribute definition the vendor asks for.
type OrderAttribute struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Values   []string `json:"values"`
}

// ReadOrderAttributes reads {"order_attributes":[{key,label,type,required,values}]}.
// Keys must be present and unique; a missing list is no attributes.
func ReadOrderAttributes(body []byte) ([]OrderAttribute, error) {
	var a struct {
		OrderAttributes []OrderAttribute `json:"order_attributes"`
	}
	if err := strictObject(body, &a); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := make([]OrderAttribute, 0, len(a.OrderAttributes))
	for i, d := range a.OrderAttributes {
		switch {
		case strings.TrimSpace(d.Key) == "":
			return nil, fmt.Errorf("order_attributes[%d].key is empty", i)
		case seen[d.Key]:
			return nil, fmt.Errorf("order_attributes: key %q appears twice", d.Key)
		}
		seen[d.Key] = true
		if d.Values == nil {
			d.Values = []string{}
		}
		out = append(out, d)
	}
	return out, nil
}

// ReadAttributesValidation reads {"valid": bool, "errors": [{key: msg}]}
// and returns the problems, "" when the values are valid. A 2xx answer
// without "valid" counts as valid, as a bare 200 does everywhere else.
func ReadAttributesValidation(body []byte) (string, error) {
	var a struct {
		Valid  *bool               `json:"valid"`
		Errors []map[string]string `json:"errors"`
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return "", nil
	}
	if err := strictObject(body, &a); err != nil {
		return "", err
	}
	var msgs []string
	for _, e := range a.Errors {
		for _, k := range sortedKeys(e) {
			msgs = append(msgs, k+": "+e[k])
		}
	}
	if a.Valid != nil && !*a.Valid {
		if len(msgs) == 0 {
			return "the vendor found the attributes invalid and gave no reason", nil
		}
		return strings.Join(msgs, "; "), nil
	}
	return "", nil
}

// UsageLine is one resource of a usage answer.
type UsageLine struct {
	Key   string
	Usage int64
}

// ReadUsage reads {"resources":[{"key","usage"}]}: keys present and
// unique, usage a non-negative integer.
func ReadUsage(body []byte) ([]UsageLine, error) {
	lines, err := readResources(body, "usage")
	if err != nil {
		return nil, err
	}
	out := make([]UsageLine, 0, len(lines))
	for _, l := range lines {
		var n int64
		if err := json.Unmarshal([]byte(l.value), &n); err != nil || n < 0 {
			return nil, fmt.Errorf("resource %s: usage must be a non-negative integer, got %s", l.key, l.value)
		}
		out = append(out, UsageLine{l.key, n})
	}
	return out, nil
}

// ConsumedLine is one resource of a consumption answer; Consumed is the
// number exactly as the vendor wrote it.
type ConsumedLine struct {
	Key      string
	Consumed json.Number
}

// ReadConsumption reads {"resources":[{"key","consumed"}]}: keys present
// and unique, consumed a JSON number (checked exactly by the caller).
func ReadConsumption(body []byte) ([]ConsumedLine, error) {
	lines, err := readResources(body, "consumed")
	if err != nil {
		return nil, err
	}
	out := make([]ConsumedLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, ConsumedLine{l.key, json.Number(l.value)})
	}
	return out, nil
}

type rawLine struct{ key, value string }

// readResources reads {"resources":[{"key": …, field: …}]} keeping each
// value's raw JSON text.
func readResources(body []byte, field string) ([]rawLine, error) {
	var a struct {
		Resources []map[string]json.RawMessage `json:"resources"`
	}
	if err := strictObject(body, &a); err != nil {
		return nil, err
	}
	if a.Resources == nil {
		return nil, fmt.Errorf(`the answer has no "resources" list`)
	}
	seen := map[string]bool{}
	out := make([]rawLine, 0, len(a.Resources))
	for i, r := range a.Resources {
		var key string
		if err := json.Unmarshal(r["key"], &key); err != nil || strings.TrimSpace(key) == "" {
			return nil, fmt.Errorf("resources[%d].key must be a non-empty string", i)
		}
		if seen[key] {
			return nil, fmt.Errorf("resources: key %q appears twice", key)
		}
		seen[key] = true
		v, ok := r[field]
		if !ok {
			return nil, fmt.Errorf("resource %s has no %q", key, field)
		}
		out = append(out, rawLine{key, string(bytes.TrimSpace(v))})
	}
	return out, nil
}

// strictObject decodes a JSON object into dst and names what is wrong
// with anything else.
func strictObject(body []byte, dst any) error {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("the answer is not a JSON object")
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("the answer is not the expected shape: %v", err)
	}
	return nil
}
