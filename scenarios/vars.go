package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
)

// expand turns a node into a JSON-shaped Go value (nil, bool, int64,
// float64, string, map[string]any, []any), replacing variables. A string
// that is exactly "${name}" becomes the variable's value with its own
// type — an id stays a number — while "${name}" inside a longer string
// is spliced in as text.
func expand(n *node, vars map[string]any) (any, error) {
	switch n.kind {
	case kNull:
		return nil, nil
	case kBool:
		return n.b, nil
	case kInt:
		return n.i, nil
	case kFloat:
		return n.f, nil
	case kString:
		if name := wholeRef(n); name != "" {
			v, ok := vars[name]
			if !ok {
				return nil, fmt.Errorf("%s: undefined variable ${%s}", n.pos, name)
			}
			return v, nil
		}
		var err error
		s := refRE.ReplaceAllStringFunc(n.s, func(ref string) string {
			name := ref[2 : len(ref)-1]
			v, ok := vars[name]
			if !ok {
				err = fmt.Errorf("%s: undefined variable ${%s}", n.pos, name)
				return ref
			}
			if s, ok := v.(string); ok {
				return s
			}
			return jsonText(v)
		})
		return s, err
	case kMap:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			v, err := expand(n.vals[i], vars)
			if err != nil {
				return nil, err
			}
			m[k.s] = v
		}
		return m, nil
	case kList:
		l := make([]any, len(n.list))
		for i, e := range n.list {
			v, err := expand(e, vars)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	}
	return nil, fmt.Errorf("%s: unexpected value", n.pos)
}

// fromJSON reads a captured JSON value, keeping integers as int64 (ids
// beyond 2^53 survive) and other numbers as float64.
func fromJSON(raw string) any {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	return normalize(v)
}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}

// asID reads an expanded value as a URL id: an integer, or a string of
// digits (what a variable holding an external id may be).
func asID(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, x > 0
	case float64:
		if x == float64(int64(x)) && x > 0 {
			return int64(x), true
		}
	case string:
		i, err := strconv.ParseInt(x, 10, 64)
		return i, err == nil && i > 0
	}
	return 0, false
}

func cloneVars(v map[string]any) map[string]any { return maps.Clone(v) }
