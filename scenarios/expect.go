package scenarios

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/apsandbox/apsandbox/sandbox/client"
)

// expectations are a step's `expect`. Each part keeps its position so a
// failure names the line it came from.
type expectations struct {
	pos          Pos
	status       *matcher
	orderStatus  *matcher
	err          *errorExpect // nil: the step must succeed
	refusal      *refusalExpect
	noRefusal    *Pos // `refusal: null`
	call         *callExpect
	answer       *answerExpect
	calls        *node
	events       []eventExpect
	withinMS     int64
	withinPos    Pos
	subscription *node
	result       []pathCheck
	warnings     *matcher
}

type errorExpect struct {
	pos                  Pos
	any                  string // scalar form: a code, or a message substring
	code, message, field string
}

type refusalExpect struct {
	pos            Pos
	stage, message string
}

type callExpect struct {
	pos    Pos
	path   *matcher
	query  []pathCheck
	body   []pathCheck
	answer *answerExpect
}

type answerExpect struct {
	pos    Pos
	status *matcher
	body   []pathCheck
}

type eventExpect struct {
	pos          Pos
	kind         string
	subscription *node
	outcome      string
}

// pathCheck is "gjson path: matcher".
type pathCheck struct {
	path string
	m    *matcher
}

var errorCodes = []string{"invalid_argument", "not_found", "conflict", "forbidden", "unauthenticated", "internal"}

var expectKeys = []string{"status", "order_status", "error", "refusal", "call", "answer", "calls", "events", "within_ms", "subscription", "result", "warnings"}

func (d *decoder) expect(n *node, key string, st *Step, defined map[string]bool) *expectations {
	e := &expectations{pos: n.pos}
	if !d.mapping(n, key, expectKeys...) {
		return e
	}
	shape := actions[st.Action].shape
	if st.Action == "" {
		shape = -1
	}
	notFor := func(k string, v *node, why string) {
		d.errf(v.pos, join(key, k), "does not apply to %s: %s", st.Action, why)
	}
	for i, k := range n.keys {
		v, vk := n.vals[i], join(key, k.s)
		switch k.s {
		case "status":
			switch shape {
			case shapeCheck, shapeIntegration:
				notFor(k.s, v, "it changes no subscription or user (use result)")
				continue
			case shapeAdvance:
				if n.get("subscription") == nil {
					d.errf(v.pos, vk, "after advance, name the subscription whose status to check: subscription: ${sub}")
				}
			}
			e.status = d.matcher(v, vk, defined)
		case "order_status":
			if shape != shapeOperation {
				notFor(k.s, v, "it places no order")
				continue
			}
			e.orderStatus = d.matcher(v, vk, defined)
		case "error":
			e.err = d.errorExpect(v, vk)
		case "refusal":
			if shape != shapeOperation && shape != shapeConsumption {
				notFor(k.s, v, "only subscription operations and pulls are refused before their call")
				continue
			}
			if v.kind == kNull {
				e.noRefusal = &v.pos
				continue
			}
			if d.mapping(v, vk, "stage", "message") {
				r := &refusalExpect{pos: v.pos}
				if s := v.get("stage"); s != nil {
					r.stage, _ = d.str(s, vk+".stage")
				}
				if s := v.get("message"); s != nil {
					r.message, _ = d.str(s, vk+".message")
				}
				e.refusal = r
			}
		case "call":
			e.call = d.callExpect(v, vk, defined)
		case "answer":
			e.answer = d.answerExpect(v, vk, defined)
		case "calls":
			if v.kind != kInt && wholeRef(v) == "" {
				d.errf(v.pos, vk, "must be an integer, got %s", v.kind)
				continue
			}
			d.refs(v, vk, defined)
			e.calls = v
		case "events":
			if shape != shapeAdvance {
				notFor(k.s, v, "only advance fires clock events")
				continue
			}
			e.events = d.eventExpects(v, vk, defined)
		case "within_ms":
			if ms, ok := d.integer(v, vk, 1, 300000); ok {
				e.withinMS, e.withinPos = ms, v.pos
			}
		case "subscription":
			if shape != shapeAdvance {
				notFor(k.s, v, "the step's own answer names its subscription")
				continue
			}
			d.arg(v, vk, argInt, defined)
			e.subscription = v
		case "result":
			e.result = d.pathChecks(v, vk, defined)
		case "warnings":
			if shape != shapeOperation && shape != shapeConsumption {
				notFor(k.s, v, "only subscription operations and pulls answer warnings")
				continue
			}
			e.warnings = d.matcher(v, vk, defined)
		}
	}
	// A step that must fail answers the error, nothing else: expectations
	// on the answer could never be checked, so they are not allowed.
	// (Its vendor calls are still checked: call, answer, calls, within_ms.)
	if e.err != nil {
		for _, k := range []string{"status", "order_status", "refusal", "result", "warnings", "events", "subscription"} {
			if v := n.get(k); v != nil && v.kind != kNull {
				d.errf(v.pos, join(key, k), "does not apply when the step must fail (error is set): the answer is the error")
			}
		}
	}
	return e
}

func (d *decoder) errorExpect(v *node, key string) *errorExpect {
	switch v.kind {
	case kNull:
		return nil
	case kString:
		if strings.TrimSpace(v.s) == "" {
			d.errf(v.pos, key, "an empty error would match any error: give a code or a part of the message (or null: the step must succeed)")
			return nil
		}
		return &errorExpect{pos: v.pos, any: v.s}
	}
	if !d.mapping(v, key, "code", "message", "field") {
		return nil
	}
	e := &errorExpect{pos: v.pos}
	if c := v.get("code"); c != nil {
		if s, ok := d.str(c, key+".code"); ok {
			if !slices.Contains(errorCodes, s) {
				d.errf(c.pos, key+".code", "%q is not an error code (one of %s)", s, strings.Join(errorCodes, ", "))
			}
			e.code = s
		}
	}
	if c := v.get("message"); c != nil {
		e.message, _ = d.str(c, key+".message")
	}
	if c := v.get("field"); c != nil {
		e.field, _ = d.str(c, key+".field")
	}
	if e.code == "" && e.message == "" && e.field == "" {
		d.errf(v.pos, key, "give at least one of code, message, field (or null: the step must succeed)")
	}
	return e
}

func (d *decoder) callExpect(v *node, key string, defined map[string]bool) *callExpect {
	if !d.mapping(v, key, "path", "query", "body", "answer") {
		return nil
	}
	c := &callExpect{pos: v.pos}
	if p := v.get("path"); p != nil {
		c.path = d.matcher(p, key+".path", defined)
	}
	if q := v.get("query"); q != nil {
		c.query = d.pathChecks(q, key+".query", defined)
	}
	if b := v.get("body"); b != nil {
		c.body = d.pathChecks(b, key+".body", defined)
	}
	if a := v.get("answer"); a != nil {
		c.answer = d.answerExpect(a, key+".answer", defined)
	}
	return c
}

func (d *decoder) answerExpect(v *node, key string, defined map[string]bool) *answerExpect {
	if !d.mapping(v, key, "status", "body") {
		return nil
	}
	a := &answerExpect{pos: v.pos}
	if s := v.get("status"); s != nil {
		a.status = d.matcher(s, key+".status", defined)
	}
	if b := v.get("body"); b != nil {
		a.body = d.pathChecks(b, key+".body", defined)
	}
	return a
}

// pathChecks reads {gjson path: matcher}. The keys are gjson paths, so
// they are not checked against any schema; a bad one simply finds
// nothing.
func (d *decoder) pathChecks(v *node, key string, defined map[string]bool) []pathCheck {
	if v.kind != kMap {
		d.errf(v.pos, key, "must be a mapping of path: matcher, got %s", v.kind)
		return nil
	}
	var out []pathCheck
	for i, k := range v.keys {
		if m := d.matcher(v.vals[i], key+"."+k.s, defined); m != nil {
			out = append(out, pathCheck{path: k.s, m: m})
		}
	}
	return out
}

func (d *decoder) eventExpects(v *node, key string, defined map[string]bool) []eventExpect {
	if v.kind != kList {
		d.errf(v.pos, key, "must be a list of {kind, subscription?, outcome?}, got %s", v.kind)
		return nil
	}
	var out []eventExpect
	for i, e := range v.list {
		ek := fmt.Sprintf("%s[%d]", key, i)
		if !d.mapping(e, ek, "kind", "subscription", "outcome") {
			continue
		}
		d.required(e, ek, "kind")
		ev := eventExpect{pos: e.pos}
		if k := e.get("kind"); k != nil {
			if s, ok := d.str(k, ek+".kind"); ok {
				if !slices.Contains(clockEventKinds, s) {
					d.errf(k.pos, ek+".kind", "%q is not a clock event (one of %s)", s, strings.Join(clockEventKinds, ", "))
				}
				ev.kind = s
			}
		}
		if s := e.get("subscription"); s != nil {
			d.arg(s, ek+".subscription", argInt, defined)
			ev.subscription = s
		}
		if o := e.get("outcome"); o != nil {
			if s, ok := d.str(o, ek+".outcome"); ok {
				if !slices.Contains([]string{"done", "failed", "refused", "waiting"}, s) {
					d.errf(o.pos, ek+".outcome", "%q is not an outcome (done, failed, refused, waiting)", s)
				}
				ev.outcome = s
			}
		}
		out = append(out, ev)
	}
	return out
}

// Failure is one expectation that did not hold.
type Failure struct {
	// Expectation is the key path of what failed: "status",
	// "call.body.plan.sku", "error".
	Expectation string `json:"expectation"`
	// Where is the expectation's place in the file, file:line:column.
	Where    string `json:"where"`
	Expected string `json:"expected,omitempty"`
	Got      string `json:"got,omitempty"`
	// Message is the whole story in one line, as the text report prints it.
	Message string `json:"message"`
}

func failure(pos Pos, what, want, got string) Failure {
	return Failure{Expectation: what, Where: pos.String(), Expected: want, Got: got,
		Message: fmt.Sprintf("%s: %s: expected %s, got %s", pos, what, want, got)}
}

func failMsg(pos Pos, what, msg string) Failure {
	return Failure{Expectation: what, Where: pos.String(), Message: fmt.Sprintf("%s: %s: %s", pos, what, msg)}
}

// outcome is what one repetition of a step did: the operator API's
// answer, the vendor calls it caused, and for advance the status of the
// subscription named in expect.
type outcome struct {
	httpStatus int
	body       []byte
	apiErr     *client.APIError
	calls      []client.Exchange
	subStatus  gjson.Result
}

// check evaluates every expectation against o and returns what failed.
func (e *expectations) check(st *Step, o *outcome, vars map[string]any) []Failure {
	var fs []Failure
	add := func(f ...Failure) { fs = append(fs, f...) }
	runErr := func(err error) { add(Failure{Expectation: "variables", Where: st.Pos.String(), Message: err.Error()}) }
	body := gjson.ParseBytes(o.body)

	switch {
	case e.err == nil && o.apiErr != nil:
		add(failure(e.pos, "error", "success", describeAPIError(o.apiErr)))
	case e.err != nil && o.apiErr == nil:
		add(failure(e.err.pos, "error", e.err.describe(), fmt.Sprintf("success (%d)", o.httpStatus)))
	case e.err != nil:
		if !e.err.matches(o.apiErr) {
			add(failure(e.err.pos, "error", e.err.describe(), describeAPIError(o.apiErr)))
		}
	}
	if e.calls != nil {
		want, err := expand(e.calls, vars)
		n, ok := number(want)
		switch {
		case err != nil:
			runErr(err)
		case !ok:
			runErr(fmt.Errorf("%s: calls needs an integer, the variable gave %s", e.calls.pos, jsonText(want)))
		case float64(len(o.calls)) != n && !(st.faults.duplicate && float64(len(o.calls)) == 2*n):
			add(failure(e.calls.pos, "calls", jsonText(want), fmt.Sprint(len(o.calls))))
		}
	}
	if o.apiErr != nil {
		// The answer is the error: what remains to check is the vendor
		// calls the step made anyway.
		if e.call != nil || e.answer != nil {
			fs = append(fs, checkCall(e.call, e.answer, o.calls, vars)...)
		}
		return append(fs, e.checkWithin(o)...)
	}

	shape := actions[st.Action].shape
	if e.status != nil {
		got := o.subStatus
		switch shape {
		case shapeOperation, shapeConsumption:
			got = body.Get("subscription.status")
		case shapeSubscription:
			got = body.Get("status")
		case shapeUser:
			got = body.Get("user.status")
		}
		add(e.status.run("status", got, vars)...)
	}
	if e.orderStatus != nil {
		add(e.orderStatus.run("order_status", body.Get("order.status"), vars)...)
	}
	if e.noRefusal != nil {
		if r := body.Get("refusal"); r.Exists() && r.Type != gjson.Null {
			add(failure(*e.noRefusal, "refusal", "none", r.Raw))
		}
	}
	if r := e.refusal; r != nil {
		got := body.Get("refusal")
		stage, msg := got.Get("stage").String(), got.Get("message").String()
		if !got.Exists() || got.Type == gjson.Null ||
			(r.stage != "" && stage != r.stage) || !strings.Contains(msg, r.message) {
			add(failure(r.pos, "refusal", r.describe(), gotText(got)))
		}
	}
	for _, c := range e.result {
		add(c.m.run("result."+c.path, body.Get(c.path), vars)...)
	}
	if e.warnings != nil {
		var ws []string
		for _, w := range body.Get("warnings").Array() {
			ws = append(ws, w.String())
		}
		joined, _ := json.Marshal(strings.Join(ws, "\n"))
		add(e.warnings.run("warnings", gjson.ParseBytes(joined), vars)...)
	}
	if e.call != nil || e.answer != nil {
		add(checkCall(e.call, e.answer, o.calls, vars)...)
	}
	add(e.checkWithin(o)...)
	for _, ev := range e.events {
		if f, ok := ev.find(body.Get("events"), vars); !ok {
			add(f)
		}
	}
	return fs
}

// run applies m and turns a miss into a Failure.
func (m *matcher) run(what string, got gjson.Result, vars map[string]any) []Failure {
	want, err := m.check(got, vars)
	if err != nil {
		return []Failure{{Expectation: what, Where: m.pos.String(), Message: err.Error()}}
	}
	if want == "" {
		return nil
	}
	return []Failure{failure(m.pos, what, want, gotText(got))}
}

// checkCall applies call and answer expectations to the step's last
// vendor call: with the duplicate fault that is the second delivery, which
// must agree with the first.
func checkCall(c *callExpect, a *answerExpect, calls []client.Exchange, vars map[string]any) []Failure {
	pos := Pos{}
	if c != nil {
		pos = c.pos
	} else {
		pos = a.pos
	}
	if len(calls) == 0 {
		return []Failure{failure(pos, "call", "a vendor call", "none")}
	}
	x := calls[len(calls)-1]
	var fs []Failure
	if c != nil {
		if c.path != nil {
			p := x.Request.Path
			if x.Request.Endpoint != nil && *x.Request.Endpoint != "" {
				p = *x.Request.Endpoint
			}
			fs = append(fs, c.path.run("call.path", gjson.Parse(jsonText(p)), vars)...)
		}
		for _, q := range c.query {
			got := gjson.Result{}
			if v, ok := x.Request.Query[q.path]; ok {
				got = gjson.Parse(jsonText(v))
			}
			fs = append(fs, q.m.run("call.query."+q.path, got, vars)...)
		}
		body := gjson.ParseBytes(x.Request.Body)
		for _, b := range c.body {
			fs = append(fs, b.m.run("call.body."+b.path, body.Get(b.path), vars)...)
		}
		if c.answer != nil {
			fs = append(fs, checkAnswer(c.answer, "call.answer", x, vars)...)
		}
	}
	if a != nil {
		fs = append(fs, checkAnswer(a, "answer", x, vars)...)
	}
	return fs
}

func checkAnswer(a *answerExpect, what string, x client.Exchange, vars map[string]any) []Failure {
	if x.Response == nil {
		msg := fmt.Sprintf("no answer came back (exchange %d, outcome %s", x.ID, x.Outcome)
		if x.Error != nil {
			msg += ": " + *x.Error
		}
		return []Failure{failMsg(a.pos, what, msg+")")}
	}
	var fs []Failure
	if a.status != nil {
		fs = append(fs, a.status.run(what+".status", gjson.Parse(fmt.Sprint(x.Response.Status)), vars)...)
	}
	body := gjson.Parse(x.Response.Body)
	for _, b := range a.body {
		fs = append(fs, b.m.run(what+".body."+b.path, body.Get(b.path), vars)...)
	}
	return fs
}

func (ev eventExpect) find(events gjson.Result, vars map[string]any) (Failure, bool) {
	var sub int64
	want := "event " + ev.kind
	if ev.subscription != nil {
		v, err := expand(ev.subscription, vars)
		id, ok := asID(v)
		if err != nil || !ok {
			return failMsg(ev.pos, "events", fmt.Sprintf("subscription is not an id: %v %s", err, jsonText(v))), false
		}
		sub = id
		want += fmt.Sprintf(" of subscription %d", id)
	}
	if ev.outcome != "" {
		want += " with outcome " + ev.outcome
	}
	var seen []string
	for _, e := range events.Array() {
		kind, id, out := e.Get("kind").String(), e.Get("subscription_id").Int(), e.Get("outcome").String()
		seen = append(seen, fmt.Sprintf("%s/%d/%s", kind, id, out))
		if kind == ev.kind && (sub == 0 || id == sub) && (ev.outcome == "" || out == ev.outcome) {
			return Failure{}, true
		}
	}
	got := "no events"
	if len(seen) > 0 {
		got = "[" + strings.Join(seen, ", ") + "] (kind/subscription/outcome)"
	}
	return failure(ev.pos, "events", want, got), false
}

func (e *errorExpect) describe() string {
	if e.any != "" {
		return fmt.Sprintf("an error with code or message %q", e.any)
	}
	var parts []string
	if e.code != "" {
		parts = append(parts, "code "+e.code)
	}
	if e.message != "" {
		parts = append(parts, fmt.Sprintf("message containing %q", e.message))
	}
	if e.field != "" {
		parts = append(parts, "field "+e.field)
	}
	return "an error with " + strings.Join(parts, ", ")
}

func (e *errorExpect) matches(a *client.APIError) bool {
	if e.any != "" {
		return string(a.Code) == e.any || strings.Contains(a.Message, e.any)
	}
	if e.code != "" && string(a.Code) != e.code {
		return false
	}
	if e.message != "" && !strings.Contains(a.Message, e.message) {
		return false
	}
	if e.field != "" && !slices.ContainsFunc(a.Details, func(d client.ErrorDetail) bool { return d.Field == e.field }) {
		return false
	}
	return true
}

func (r *refusalExpect) describe() string {
	s := "a refusal"
	if r.stage != "" {
		s += " at stage " + r.stage
	}
	if r.message != "" {
		s += fmt.Sprintf(" with message containing %q", r.message)
	}
	return s
}

func describeAPIError(a *client.APIError) string {
	b, _ := json.Marshal(a.Details)
	s := fmt.Sprintf("%d %s: %s", a.Status, a.Code, a.Message)
	if len(a.Details) > 0 {
		s += " " + string(b)
	}
	return s
}

// checkWithin wants every vendor call of the step answered within
// within_ms: a call that timed out or got no answer was not, whatever its
// duration, and a step that made no call answered nothing in time.
func (e *expectations) checkWithin(o *outcome) []Failure {
	if e.withinMS <= 0 {
		return nil
	}
	want := fmt.Sprintf("an answer within %d ms", e.withinMS)
	if len(o.calls) == 0 {
		return []Failure{failure(e.withinPos, "within_ms", want, "no vendor call")}
	}
	var fs []Failure
	for _, c := range o.calls {
		switch {
		case c.Response == nil:
			fs = append(fs, failure(e.withinPos, "within_ms", want, fmt.Sprintf("no answer: %s (exchange %d, %s)", c.Outcome, c.ID, c.Event)))
		case c.DurationMs > float64(e.withinMS):
			fs = append(fs, failure(e.withinPos, "within_ms", want, fmt.Sprintf("%.0f ms (exchange %d, %s)", c.DurationMs, c.ID, c.Event)))
		}
	}
	return fs
}
