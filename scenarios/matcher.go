package scenarios

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/tidwall/gjson"
)

// matcher is one check of a value found by a gjson path (LANGUAGE.md,
// "Matchers"). Every operand is a node so that variables expand at run
// time and a failure names the operand's position.
type matcher struct {
	pos      Pos
	eq       *node // scalar equality
	star     bool  // "*": present, any value
	exists   *bool
	contains *node
	matches  *node
	re       *regexp.Regexp // compiled at parse time when matches has no variable
	cmps     []cmpOp
	length   *node
	oneOf    []*node
}

type cmpOp struct {
	op string
	v  *node
}

var matcherKeys = []string{"exists", "contains", "matches", "gt", "gte", "lt", "lte", "len", "one_of"}

// matcher parses a matcher: a scalar, "*", or a mapping of matcher keys
// (all of which must hold).
func (d *decoder) matcher(n *node, key string, defined map[string]bool) *matcher {
	d.refs(n, key, defined)
	m := &matcher{pos: n.pos}
	switch n.kind {
	case kString:
		if n.s == "*" {
			m.star = true
		} else {
			m.eq = n
		}
		return m
	case kNull, kBool, kInt, kFloat:
		m.eq = n
		return m
	case kList:
		d.errf(n.pos, key, "a matcher cannot be a list; write {one_of: [...]} for alternatives")
		return nil
	}
	if len(n.keys) == 0 {
		d.errf(n.pos, key, "empty matcher: give a value or one of %s", strings.Join(matcherKeys, ", "))
		return nil
	}
	for i, k := range n.keys {
		v, mk := n.vals[i], join(key, k.s)
		switch k.s {
		case "exists":
			if b, ok := d.boolean(v, mk); ok {
				m.exists = &b
			}
		case "contains":
			if _, ok := d.str(v, mk); ok {
				m.contains = v
			}
		case "matches":
			if s, ok := d.str(v, mk); ok {
				m.matches = v
				if !strings.Contains(s, "${") {
					re, err := regexp.Compile(s)
					if err != nil {
						d.errf(v.pos, mk, "bad regular expression: %v", err)
					}
					m.re = re
				}
			}
		case "gt", "gte", "lt", "lte":
			if v.kind != kInt && v.kind != kFloat && wholeRef(v) == "" {
				d.errf(v.pos, mk, "must be a number, got %s", v.kind)
				continue
			}
			m.cmps = append(m.cmps, cmpOp{k.s, v})
		case "len":
			if v.kind != kInt && wholeRef(v) == "" {
				d.errf(v.pos, mk, "must be an integer, got %s", v.kind)
				continue
			}
			m.length = v
		case "one_of":
			if v.kind != kList || len(v.list) == 0 {
				d.errf(v.pos, mk, "must be a non-empty list of values")
				continue
			}
			m.oneOf = v.list
		default:
			d.errf(k.pos, mk, "bad matcher %q (one of %s; a mapping value is compared by its keys, not as a whole)", k.s, strings.Join(matcherKeys, ", "))
		}
	}
	return m
}

// check tests got (a gjson result, absent when !got.Exists()) and returns
// "" when it holds, or what was expected.
func (m *matcher) check(got gjson.Result, vars map[string]any) (want string, err error) {
	present := got.Exists()
	if m.star {
		if !present {
			return "present (any value)", nil
		}
		return "", nil
	}
	if m.exists != nil {
		if present != *m.exists {
			if *m.exists {
				return "present", nil
			}
			return "absent", nil
		}
	}
	if m.eq != nil {
		v, err := expand(m.eq, vars)
		if err != nil {
			return "", err
		}
		if !equal(v, got) {
			return jsonText(v), nil
		}
	}
	if m.contains != nil {
		v, err := expand(m.contains, vars)
		if err != nil {
			return "", err
		}
		s := fmt.Sprint(v)
		if !present || !strings.Contains(got.String(), s) {
			return fmt.Sprintf("a value containing %q", s), nil
		}
	}
	if m.matches != nil {
		re := m.re
		if re == nil {
			v, err := expand(m.matches, vars)
			if err != nil {
				return "", err
			}
			if re, err = regexp.Compile(fmt.Sprint(v)); err != nil {
				return "", fmt.Errorf("%s: bad regular expression after expansion: %v", m.matches.pos, err)
			}
		}
		if !present || !re.MatchString(got.String()) {
			return fmt.Sprintf("a value matching /%s/", re), nil
		}
	}
	for _, c := range m.cmps {
		v, err := expand(c.v, vars)
		if err != nil {
			return "", err
		}
		bound, ok := number(v)
		if !ok {
			return "", fmt.Errorf("%s: %s needs a number, the variable gave %s", c.v.pos, c.op, jsonText(v))
		}
		n := got.Float()
		holds := got.Type == gjson.Number
		switch c.op {
		case "gt":
			holds = holds && n > bound
		case "gte":
			holds = holds && n >= bound
		case "lt":
			holds = holds && n < bound
		case "lte":
			holds = holds && n <= bound
		}
		if !holds {
			return fmt.Sprintf("a number %s %s", map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[c.op], jsonText(v)), nil
		}
	}
	if m.length != nil {
		v, err := expand(m.length, vars)
		if err != nil {
			return "", err
		}
		want, ok := number(v)
		if !ok {
			return "", fmt.Errorf("%s: len needs an integer, the variable gave %s", m.length.pos, jsonText(v))
		}
		var n int
		switch {
		case got.IsArray():
			n = len(got.Array())
		case got.IsObject():
			n = len(got.Map())
		case got.Type == gjson.String:
			n = len([]rune(got.Str))
		default:
			return fmt.Sprintf("a list, object or string of length %v", want), nil
		}
		if float64(n) != want {
			return fmt.Sprintf("length %v", want), nil
		}
	}
	if m.oneOf != nil {
		var alts []string
		for _, o := range m.oneOf {
			v, err := expand(o, vars)
			if err != nil {
				return "", err
			}
			if equal(v, got) {
				return "", nil
			}
			alts = append(alts, jsonText(v))
		}
		return "one of " + strings.Join(alts, ", "), nil
	}
	return "", nil
}

// equal compares an expected JSON value with what gjson found: numbers as
// numbers (5 equals 5.0), everything else by type and value, so that the
// string "5" does not pass for the number 5 — the difference a vendor's
// parser trips on.
func equal(want any, got gjson.Result) bool {
	if !got.Exists() {
		return false
	}
	if n, ok := number(want); ok {
		return got.Type == gjson.Number && got.Float() == n
	}
	switch w := want.(type) {
	case nil:
		return got.Type == gjson.Null
	case bool:
		return (got.Type == gjson.True || got.Type == gjson.False) && got.Bool() == w
	case string:
		return got.Type == gjson.String && got.Str == w
	}
	b, err := json.Marshal(want)
	if err != nil {
		return false
	}
	return jsonEqual(b, []byte(got.Raw))
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// jsonText shows a value as JSON, so that "5" and 5 look different in a
// report.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// gotText shows what a gjson path found, or that it found nothing.
func gotText(r gjson.Result) string {
	if !r.Exists() {
		return "absent"
	}
	if len(r.Raw) > 300 {
		return r.Raw[:300] + "…"
	}
	return r.Raw
}
