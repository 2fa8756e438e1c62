package scenarios

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	varRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// refRE finds ${…} references; what is inside is checked separately
	// so that "${}" and "${a b}" are reported rather than left as text.
	refRE = regexp.MustCompile(`\$\{([^}]*)\}`)
)

// Parse parses one scenario file. name is what messages call the file (a
// path, or library/<name>.yaml). The error, when not nil, is Errors: every
// problem of the file, each with its line, column and key.
func Parse(name string, src []byte) (*Scenario, error) {
	root, yerr := parseYAML(name, src)
	if yerr != nil {
		return nil, Errors{yerr}
	}
	d := &decoder{file: name}
	sc := d.scenario(root)
	if err := d.errs.asError(); err != nil {
		return nil, err
	}
	return sc, nil
}

// decoder turns nodes into a Scenario, collecting every problem instead
// of stopping at the first.
type decoder struct {
	file string
	errs Errors
}

func (d *decoder) errf(pos Pos, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: pos, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// mapping checks that n is a mapping whose keys are all known; it reports
// each unknown key at the key itself.
func (d *decoder) mapping(n *node, key string, known ...string) bool {
	if n.kind != kMap {
		d.errf(n.pos, key, "must be a mapping, got %s", n.kind)
		return false
	}
	for _, k := range n.keys {
		if !slices.Contains(known, k.s) {
			d.errf(k.pos, join(key, k.s), "unknown key (known here: %s)", strings.Join(known, ", "))
		}
	}
	return true
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func (d *decoder) str(n *node, key string) (string, bool) {
	if n.kind != kString {
		d.errf(n.pos, key, "must be a string, got %s", n.kind)
		return "", false
	}
	return n.s, true
}

func (d *decoder) integer(n *node, key string, min, max int64) (int64, bool) {
	if n.kind != kInt {
		d.errf(n.pos, key, "must be an integer, got %s", n.kind)
		return 0, false
	}
	if n.i < min || n.i > max {
		d.errf(n.pos, key, "must be between %d and %d, got %d", min, max, n.i)
		return 0, false
	}
	return n.i, true
}

func (d *decoder) boolean(n *node, key string) (bool, bool) {
	if n.kind != kBool {
		d.errf(n.pos, key, "must be true or false, got %s", n.kind)
		return false, false
	}
	return n.b, true
}

func (d *decoder) required(n *node, key string, names ...string) {
	for _, name := range names {
		if n.get(name) == nil {
			d.errf(n.pos, key, "missing required key %q", name)
		}
	}
}

func (d *decoder) scenario(root *node) *Scenario {
	sc := &Scenario{File: d.file, seed: 1}
	if !d.mapping(root, "", "version", "name", "description", "tags", "setup", "vars", "steps") {
		return sc
	}
	d.required(root, "", "version", "name", "steps")
	if v := root.get("version"); v != nil {
		if n, ok := d.integer(v, "version", 0, 1<<31); ok && n != 1 {
			d.errf(v.pos, "version", "only version 1 exists, got %d", n)
		}
	}
	if v := root.get("name"); v != nil {
		if s, ok := d.str(v, "name"); ok {
			if !nameRE.MatchString(s) || len(s) > 100 {
				d.errf(v.pos, "name", "%q must be lowercase letters, digits and '-', starting with a letter or digit, at most 100 long", s)
			}
			sc.Name = s
		}
	}
	if v := root.get("description"); v != nil {
		sc.Description, _ = d.str(v, "description")
	}
	if v := root.get("tags"); v != nil {
		if v.kind != kList {
			d.errf(v.pos, "tags", "must be a list of strings, got %s", v.kind)
		}
		for i, t := range v.list {
			if s, ok := d.str(t, fmt.Sprintf("tags[%d]", i)); ok {
				sc.Tags = append(sc.Tags, s)
			}
		}
	}
	defined := map[string]bool{}
	for _, b := range builtinVars {
		defined[b] = true
	}
	if v := root.get("vars"); v != nil && d.mapping(v, "vars", v.keyNames()...) {
		for i, k := range v.keys {
			if !varRE.MatchString(k.s) {
				d.errf(k.pos, "vars."+k.s, "a variable name is letters, digits and '_', not starting with a digit")
				continue
			}
			if slices.Contains(builtinVars, k.s) {
				d.errf(k.pos, "vars."+k.s, "%q is a built-in variable and cannot be set", k.s)
				continue
			}
			d.refs(v.vals[i], "vars."+k.s, defined)
			sc.vars = append(sc.vars, kv{k.s, v.vals[i]})
			defined[k.s] = true
		}
	}
	// Setup comes after vars, as it runs: its settings may use them.
	if v := root.get("setup"); v != nil {
		d.setup(v, sc, defined)
	}
	if v := root.get("steps"); v != nil {
		if v.kind != kList {
			d.errf(v.pos, "steps", "must be a list of steps, got %s", v.kind)
		} else if len(v.list) == 0 {
			d.errf(v.pos, "steps", "a scenario needs at least one step")
		}
		for i, s := range v.list {
			if st := d.step(s, i+1, defined); st != nil {
				sc.Steps = append(sc.Steps, st)
			}
		}
	}
	return sc
}

func (n *node) keyNames() []string {
	names := make([]string, len(n.keys))
	for i, k := range n.keys {
		names[i] = k.s
	}
	return names
}

func (d *decoder) setup(n *node, sc *Scenario, defined map[string]bool) {
	if !d.mapping(n, "setup", "seed", "integration", "vendor_faults") {
		return
	}
	if v := n.get("seed"); v != nil {
		if s, ok := d.integer(v, "setup.seed", 1, 1<<62); ok {
			sc.seed = s
		}
	}
	if v := n.get("integration"); v != nil {
		if d.integration(v, "setup.integration") {
			d.refs(v, "setup.integration", defined)
			sc.integration = v
		}
	}
	if v := n.get("vendor_faults"); v != nil {
		if v.kind != kList {
			d.errf(v.pos, "setup.vendor_faults", "must be a list, got %s", v.kind)
			return
		}
		for i, f := range v.list {
			key := fmt.Sprintf("setup.vendor_faults[%d]", i)
			if !d.mapping(f, key, "endpoint", "status", "message", "delay_ms", "times") {
				continue
			}
			d.required(f, key, "endpoint")
			vf := vendorFault{pos: f.pos}
			if e := f.get("endpoint"); e != nil {
				if s, ok := d.str(e, key+".endpoint"); ok {
					s = strings.TrimPrefix(s, "/")
					if !slices.Contains(examplevendor.Endpoints(), s) {
						d.errf(e.pos, key+".endpoint", "%q is not a vendor endpoint (one of %s)", s, strings.Join(examplevendor.Endpoints(), ", "))
					}
					vf.endpoint = s
				}
			}
			if e := f.get("status"); e != nil {
				vf.status, _ = d.integer(e, key+".status", 400, 599)
			}
			if e := f.get("message"); e != nil {
				vf.message, _ = d.str(e, key+".message")
			}
			if e := f.get("delay_ms"); e != nil {
				vf.delayMS, _ = d.integer(e, key+".delay_ms", 0, 300000)
			}
			if e := f.get("times"); e != nil {
				vf.times, _ = d.integer(e, key+".times", 0, 1<<31)
			}
			sc.vendorFaults = append(sc.vendorFaults, vf)
		}
	}
}

// integration checks a mapping of integration settings: known keys, the
// right types, event names in paths. api_path gets its own message,
// since leaving it out is deliberate.
func (d *decoder) integration(n *node, key string) bool {
	if n.kind != kMap {
		d.errf(n.pos, key, "must be a mapping of integration settings, got %s", n.kind)
		return false
	}
	ok := true
	for i, k := range n.keys {
		kind, known := integrationKeys[k.s]
		switch {
		case k.s == "api_path":
			d.errf(k.pos, join(key, k.s), "api_path is the vendor under test: the run sets it (--vendor), a scenario cannot")
			ok = false
			continue
		case !known:
			d.errf(k.pos, join(key, k.s), "unknown integration setting (known: %s)", strings.Join(slices.Sorted(maps.Keys(integrationKeys)), ", "))
			ok = false
			continue
		}
		v := n.vals[i]
		d.arg(v, join(key, k.s), kind, nil)
		switch k.s {
		case "mode":
			if v.kind == kString && v.s != "automatic" && v.s != "manual" {
				d.errf(v.pos, join(key, k.s), "must be automatic or manual, got %q", v.s)
			}
		case "paths":
			for j, ek := range v.keys {
				if !slices.Contains(events, ek.s) {
					d.errf(ek.pos, join(key, "paths."+ek.s), "not an event (one of %s)", strings.Join(events, ", "))
				}
				if pv := v.vals[j]; pv.kind == kString && !strings.HasPrefix(pv.s, "/") {
					d.errf(pv.pos, join(key, "paths."+ek.s), "a path starts with /, got %q", pv.s)
				}
			}
		}
	}
	return ok
}

var stepKeys = []string{"name", "faults", "repeat", "concurrency", "expect", "capture"}

func (d *decoder) step(n *node, index int, defined map[string]bool) *Step {
	key := fmt.Sprintf("steps[%d]", index)
	if n.kind != kMap {
		d.errf(n.pos, key, "a step must be a mapping with one action, got %s", n.kind)
		return nil
	}
	st := &Step{Pos: n.pos, repeat: 1, concurrency: 1}
	var actionKey *node
	for i, k := range n.keys {
		if _, ok := actions[k.s]; ok {
			if actionKey != nil {
				d.errf(k.pos, join(key, k.s), "two actions in one step (%s and %s): a step does one thing", actionKey.s, k.s)
				continue
			}
			actionKey = k
			st.Action, st.args = k.s, n.vals[i]
			continue
		}
		if !slices.Contains(stepKeys, k.s) {
			d.errf(k.pos, join(key, k.s), "neither an action (%s) nor a step key (%s)", strings.Join(actionNames(), ", "), strings.Join(stepKeys, ", "))
		}
	}
	if actionKey == nil {
		d.errf(n.pos, key, "the step has no action (one of %s)", strings.Join(actionNames(), ", "))
	} else {
		st.Pos = actionKey.pos
		d.args(st, join(key, st.Action), defined)
	}
	st.Name = fmt.Sprintf("%d %s", index, st.Action)
	if v := n.get("name"); v != nil {
		if s, ok := d.str(v, key+".name"); ok && s != "" {
			st.Name = s
		}
	}
	if v := n.get("faults"); v != nil && d.mapping(v, key+".faults", "timeout_ms", "duplicate", "extra_fields", "late") {
		if f := v.get("timeout_ms"); f != nil {
			st.faults.timeoutMS, _ = d.integer(f, key+".faults.timeout_ms", 1, 300000)
		}
		if f := v.get("duplicate"); f != nil {
			st.faults.duplicate, _ = d.boolean(f, key+".faults.duplicate")
		}
		if f := v.get("extra_fields"); f != nil {
			st.faults.extraFields, _ = d.boolean(f, key+".faults.extra_fields")
		}
		if f := v.get("late"); f != nil {
			st.faults.late, _ = d.boolean(f, key+".faults.late")
		}
	}
	if v := n.get("repeat"); v != nil {
		if r, ok := d.integer(v, key+".repeat", 1, 100000); ok {
			st.repeat = int(r)
		}
	}
	if v := n.get("concurrency"); v != nil {
		if c, ok := d.integer(v, key+".concurrency", 1, 256); ok {
			st.concurrency = int(c)
			if st.concurrency > st.repeat {
				d.errf(v.pos, key+".concurrency", "concurrency %d is more than repeat %d", st.concurrency, st.repeat)
			}
		}
	}
	// Captures are taken before the expectations are checked, so that an
	// expectation may compare the vendor's call with what the answer said
	// (the order step of LANGUAGE.md does); the step's own arguments were
	// checked above, without them.
	if v := n.get("capture"); v != nil && d.mapping(v, key+".capture", v.keyNames()...) {
		for i, k := range v.keys {
			ck := key + ".capture." + k.s
			switch {
			case !varRE.MatchString(k.s):
				d.errf(k.pos, ck, "a variable name is letters, digits and '_', not starting with a digit")
			case slices.Contains(builtinVars, k.s):
				d.errf(k.pos, ck, "%q is a built-in variable and cannot be captured", k.s)
			default:
				if p, ok := d.str(v.vals[i], ck); ok {
					if p == "" {
						d.errf(v.vals[i].pos, ck, "the path into the answer is empty")
					}
					st.captures = append(st.captures, capture{pos: v.vals[i].pos, name: k.s, path: p})
					defined[k.s] = true
				}
			}
		}
	}
	st.expect = &expectations{pos: n.pos}
	if v := n.get("expect"); v != nil {
		st.expect = d.expect(v, key+".expect", st, defined)
	}
	return st
}

// args checks the action's arguments against its spec.
func (d *decoder) args(st *Step, key string, defined map[string]bool) {
	a := actions[st.Action]
	n := st.args
	switch {
	case a.noArgs:
		if n.kind != kNull && !(n.kind == kMap && len(n.keys) == 0) {
			d.errf(n.pos, key, "%s takes no arguments: write `%s: {}`", st.Action, st.Action)
		}
		st.args = nil
		return
	case a.free:
		if d.integration(n, key) {
			d.refs(n, key, defined)
		}
		return
	}
	names := make([]string, len(a.args))
	for i, s := range a.args {
		names[i] = s.name
	}
	if n.kind == kNull {
		n.kind = kMap // `stop:` with nothing: report the missing keys
	}
	if !d.mapping(n, key, names...) {
		return
	}
	for _, s := range a.args {
		v := n.get(s.name)
		if v == nil {
			if s.required {
				d.errf(n.pos, key, "missing required key %q", s.name)
			}
			continue
		}
		d.arg(v, join(key, s.name), s.kind, defined)
	}
	if st.Action == "advance" && (n.get("by") == nil) == (n.get("to") == nil) {
		d.errf(n.pos, key, "advance takes exactly one of by (a span: 7d, 1mo) or to (a time)")
	}
}

// arg checks one value against its kind. A value that is a whole
// "${var}" is checked when the variable is known, at run time.
func (d *decoder) arg(v *node, key string, kind argKind, defined map[string]bool) {
	if defined != nil {
		d.refs(v, key, defined)
	}
	if wholeRef(v) != "" {
		return
	}
	bad := func() { d.errf(v.pos, key, "must be %s, got %s", kind, v.kind) }
	switch kind {
	case argInt:
		if v.kind != kInt {
			bad()
		}
	case argNumber:
		if v.kind != kInt && v.kind != kFloat {
			bad()
		}
	case argBool:
		if v.kind != kBool {
			bad()
		}
	case argString:
		if v.kind != kString {
			bad()
		}
	case argTime:
		if v.kind != kString {
			bad()
		} else if !strings.Contains(v.s, "${") {
			if _, err := time.Parse(time.RFC3339, v.s); err != nil {
				d.errf(v.pos, key, "must be an RFC 3339 time (2025-01-31T00:00:00Z), got %q", v.s)
			}
		}
	case argQuantities, argStringMap:
		if v.kind != kMap {
			bad()
			return
		}
		for i, k := range v.keys {
			e := v.vals[i]
			if wholeRef(e) != "" {
				continue
			}
			switch {
			case kind == argQuantities && (e.kind != kInt || e.i < 0):
				d.errf(e.pos, join(key, k.s), "a quantity must be a non-negative integer, got %s", e.scalarString())
			case kind == argStringMap && e.kind != kString:
				d.errf(e.pos, join(key, k.s), "must be a string, got %s", e.kind)
			}
		}
	}
}

// wholeRef returns the variable name when v is exactly "${name}", the form
// that keeps the variable's JSON type.
func wholeRef(v *node) string {
	if v == nil || v.kind != kString {
		return ""
	}
	m := refRE.FindStringSubmatch(v.s)
	if m == nil || m[0] != v.s {
		return ""
	}
	return m[1]
}

// refs reports every ${…} in v (keys and values, recursively) that is
// malformed or names a variable not defined at this point of the file.
func (d *decoder) refs(v *node, key string, defined map[string]bool) {
	switch v.kind {
	case kString:
		for _, m := range refRE.FindAllStringSubmatch(v.s, -1) {
			switch {
			case !varRE.MatchString(m[1]):
				d.errf(v.pos, key, "%q is not a variable reference: ${name} with letters, digits and '_'", m[0])
			case !defined[m[1]]:
				d.errf(v.pos, key, "undefined variable ${%s} (define it in vars or capture it in an earlier step)", m[1])
			}
		}
	case kMap:
		for i, k := range v.keys {
			d.refs(v.vals[i], join(key, k.s), defined)
		}
	case kList:
		for i, e := range v.list {
			d.refs(e, fmt.Sprintf("%s[%d]", key, i), defined)
		}
	}
}
