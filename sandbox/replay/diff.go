package replay

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/wI2L/jsondiff"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

// Verdicts of one replayed call.
const (
	// Equal: same status, and the bodies agree but for ignored paths.
	Equal = "equal"
	// Changed: the vendor answered, differently.
	Changed = "changed"
	// Failed: the replayed call got no answer (timeout, refused
	// connection…), so there is nothing to compare.
	Failed = "failed"
)

// Change is one difference between the recorded and the replayed body,
// as a JSON Patch operation (RFC 6902) that would turn the recorded body
// into the replayed one.
type Change struct {
	// Op is add, remove or replace.
	Op string `json:"op"`
	// Path is a JSON Pointer into the body; "" is the whole body.
	Path string `json:"path"`
	// Recorded is the value before, as JSON (absent for add).
	Recorded json.RawMessage `json:"recorded,omitempty"`
	// Replayed is the value after, as JSON (absent for remove).
	Replayed json.RawMessage `json:"replayed,omitempty"`
}

// Diff compares a recorded answer with a replayed one.
type Diff struct {
	Verdict        string   `json:"verdict"`
	RecordedStatus int      `json:"recorded_status"`
	ReplayedStatus int      `json:"replayed_status"`
	StatusChanged  bool     `json:"status_changed"`
	Changes        []Change `json:"changes"`
}

// Compare diffs two answers; nil means no answer came back. Bodies that
// are both JSON are compared as JSON values: member order, layout and the
// spelling of numbers (1, 1.0, 1e0) do not count. Other bodies are
// compared byte for byte, as one replace of the whole body. Changes at or
// below a path that an ignore pattern matches are dropped.
func Compare(recorded, replayed *journal.Response, ignore []Pattern) Diff {
	d := Diff{Changes: []Change{}}
	if recorded != nil {
		d.RecordedStatus = recorded.Status
	}
	if replayed == nil {
		d.Verdict = Failed
		return d
	}
	d.ReplayedStatus = replayed.Status
	d.StatusChanged = d.RecordedStatus != d.ReplayedStatus
	var before string
	if recorded != nil {
		before = recorded.Body
	}
	for _, c := range bodyChanges([]byte(before), []byte(replayed.Body)) {
		if !ignored(c.Path, ignore) {
			d.Changes = append(d.Changes, c)
		}
	}
	d.Verdict = Equal
	if d.StatusChanged || len(d.Changes) > 0 {
		d.Verdict = Changed
	}
	return d
}

func ignored(path string, ignore []Pattern) bool {
	for _, p := range ignore {
		if p.Match(path) {
			return true
		}
	}
	return false
}

// bodyChanges lists what turns a into b.
func bodyChanges(a, b []byte) []Change {
	av, aok := decode(a)
	bv, bok := decode(b)
	if !aok || !bok {
		if bytes.Equal(a, b) {
			return nil
		}
		c := Change{Op: "replace"}
		if len(bytes.TrimSpace(a)) > 0 {
			c.Recorded = rawJSON(string(a))
		} else {
			c.Op = "add"
		}
		if len(bytes.TrimSpace(b)) > 0 {
			c.Replayed = rawJSON(string(b))
		} else {
			c.Op = "remove"
		}
		return []Change{c}
	}
	patch, err := jsondiff.CompareWithoutMarshal(av, bv)
	if err != nil {
		// Both values came from encoding/json, so this cannot happen;
		// say so rather than claim the bodies are equal.
		return []Change{{Op: "replace", Recorded: rawJSON(string(a)), Replayed: rawJSON(string(b))}}
	}
	out := make([]Change, 0, len(patch))
	for _, op := range patch {
		c := Change{Op: op.Type, Path: op.Path}
		switch op.Type {
		case jsondiff.OperationAdd:
			c.Replayed = rawJSON(op.Value)
		case jsondiff.OperationRemove:
			c.Recorded = rawJSON(op.OldValue)
		default:
			c.Recorded, c.Replayed = rawJSON(op.OldValue), rawJSON(op.Value)
		}
		out = append(out, c)
	}
	return out
}

// rawJSON encodes a decoded value (or a non-JSON body, as a string); such
// values always encode.
func rawJSON(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage(strconv.Quote(err.Error()))
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// decode reads a JSON body into plain values, numbers canonical, so that
// 1, 1.0 and 1e0 are one value and a 19-digit id keeps every digit. An
// empty body or one that is not JSON is not ok.
func decode(body []byte) (any, bool) {
	if len(bytes.TrimSpace(body)) == 0 || !json.Valid(body) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return canonical(v), true
}

func canonical(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = canonical(e)
		}
	case []any:
		for i, e := range t {
			t[i] = canonical(e)
		}
	case json.Number:
		return canonicalNumber(t)
	}
	return v
}

// canonicalNumber spells a number one way: integers in decimal without
// exponent or fraction, others in the shortest form that round-trips.
func canonicalNumber(n json.Number) json.Number {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return json.Number(strconv.FormatInt(i, 10))
	}
	if len(n) > 100 || hugeExponent(string(n)) {
		// 1e10000000 would be written out digit by digit, and a
		// million-digit literal parsed in quadratic time: seconds of CPU
		// for one member of one answer. Such a number is compared as it
		// is spelt.
		return n
	}
	f, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven)
	if err != nil {
		return n
	}
	if f.IsInt() {
		if i, ok := new(big.Int).SetString(f.Text('f', 0), 10); ok {
			return json.Number(i.String())
		}
	}
	f64, _ := f.Float64()
	if math.IsInf(f64, 0) {
		return json.Number(f.Text('g', -1))
	}
	return json.Number(strconv.FormatFloat(f64, 'g', -1, 64))
}

// hugeExponent reports whether a JSON number's exponent is beyond what
// any float64 can hold, where canonical spelling stops being cheap.
func hugeExponent(n string) bool {
	i := strings.IndexAny(n, "eE")
	if i < 0 {
		return false
	}
	exp, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+"))
	return err != nil || exp > 400 || exp < -400
}
