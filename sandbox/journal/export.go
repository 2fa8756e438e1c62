package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// SchemaV1 names the format of one exported exchange. Every line of an
// export carries it, so that a file can be recognised on its own, lines
// from several exports can be concatenated, and a later format can be
// told apart instead of being misread.
const SchemaV1 = "apsandbox.exchange/v1"

// maxJSONLLine bounds one line of an import: a recorded body can be large, but
// not unbounded, and a bound keeps a broken file from eating memory.
const maxJSONLLine = 16 << 20

// maxImportProblems is how many problems an import reports before it stops: a
// file that is wrong everywhere needs fixing, not a list of every line.
const maxImportProblems = 20

// jsonlRecord is one exported line: the schema first, so that it is the first
// thing a reader sees, then the exchange's own members.
type jsonlRecord struct {
	Schema string `json:"schema"`
	Exchange
}

// WriteJSONL writes xs as JSON Lines: one object per exchange, each ending
// with a newline, members in the order of the Exchange type. The format
// is meant for files that are diffed, grepped and re-imported, which is
// why it is one self-describing record per line rather than one document.
//
// Request bodies are written compactly, as encoding/json writes any
// json.RawMessage. Redact xs first when the export leaves the sandbox.
func WriteJSONL(w io.Writer, xs []Exchange) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, x := range xs {
		if err := enc.Encode(jsonlRecord{Schema: SchemaV1, Exchange: x}); err != nil {
			return fmt.Errorf("write exchange %d (id %d): %w", i, x.ID, err)
		}
	}
	return nil
}

// Problem is one thing wrong with one line of an import.
type Problem struct {
	// Line is the 1-based line number in the input.
	Line int
	// Field is the JSON path of the offending member ("request.method");
	// empty when the problem is with the line as a whole.
	Field   string
	Problem string
}

func (p Problem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Problem)
	}
	return fmt.Sprintf("line %d: field %q: %s", p.Line, p.Field, p.Problem)
}

// ImportError lists what is wrong with an import. It reports several
// problems at once so that whoever fixes the file by hand does not have
// to run the import once per mistake.
type ImportError struct {
	Problems []Problem
}

func (e *ImportError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems in import", len(e.Problems))
	if len(e.Problems) >= maxImportProblems {
		b.WriteString(" (stopped counting)")
	}
	b.WriteString(":")
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}

// add records p and reports whether there is room for more.
func (e *ImportError) add(ps ...Problem) bool {
	for _, p := range ps {
		if len(e.Problems) >= maxImportProblems {
			return false
		}
		e.Problems = append(e.Problems, p)
	}
	return len(e.Problems) < maxImportProblems
}

// ReadJSONL reads exchanges written by WriteJSONL. Every line must be a
// JSON object of schema SchemaV1 with no unknown members and the fields a
// journal relies on (event, request method and URL, a known outcome, a
// start time); blank lines are skipped.
//
// The import is all or nothing: a half-imported file would leave a
// journal that matches neither the file nor what was there before. On any
// problem it returns a nil slice and an *ImportError naming each line and
// field (up to 20 of them).
func ReadJSONL(r io.Reader) ([]Exchange, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxJSONLLine)
	var (
		xs   []Exchange
		errs ImportError
		n    int
	)
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		x, problems := parseJSONLLine(line)
		for i := range problems {
			problems[i].Line = n
		}
		if !errs.add(problems...) {
			return nil, &errs
		}
		if len(problems) == 0 {
			xs = append(xs, x)
		}
	}
	if err := sc.Err(); err != nil {
		if !errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("read line %d: %w", n+1, err)
		}
		errs.add(Problem{Line: n + 1, Problem: fmt.Sprintf("longer than %d MiB", maxJSONLLine>>20)})
	}
	if len(errs.Problems) > 0 {
		return nil, &errs
	}
	return xs, nil
}

// parseJSONLLine decodes and checks one non-blank line. The problems it
// returns have no line number yet.
func parseJSONLLine(line []byte) (Exchange, []Problem) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(line, &members); err != nil {
		return Exchange{}, []Problem{jsonlLineProblem(err)}
	}
	if members == nil {
		return Exchange{}, []Problem{{Problem: "must be a JSON object; got null"}}
	}
	// A line of another schema is another format: checking its fields
	// against this one would only produce noise.
	if p, ok := checkJSONLSchema(members); !ok {
		return Exchange{}, []Problem{p}
	}
	if unknown := unknownMembers("", members, reflect.TypeFor[jsonlRecord]()); len(unknown) > 0 {
		return Exchange{}, unknown
	}
	var rec jsonlRecord
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return Exchange{}, []Problem{jsonlDecodeProblem(err, members)}
	}
	return rec.Exchange, validateImported(&rec.Exchange)
}

// jsonlLineProblem describes a line that is not a JSON object at all.
func jsonlLineProblem(err error) Problem {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return Problem{Problem: fmt.Sprintf("invalid JSON at byte %d: %v", syntax.Offset, err)}
	case errors.As(err, &typ):
		return Problem{Problem: "must be a JSON object; got " + typ.Value}
	}
	return Problem{Problem: "invalid JSON: " + err.Error()}
}

func checkJSONLSchema(members map[string]json.RawMessage) (Problem, bool) {
	raw, ok := members["schema"]
	if !ok {
		return Problem{Field: "schema", Problem: fmt.Sprintf("missing; want %q", SchemaV1)}, false
	}
	var schema string
	if err := json.Unmarshal(raw, &schema); err != nil {
		return Problem{Field: "schema", Problem: fmt.Sprintf("must be the string %q; got %s", SchemaV1, raw)}, false
	}
	if schema != SchemaV1 {
		return Problem{Field: "schema", Problem: fmt.Sprintf("must be %q; got %q", SchemaV1, schema)}, false
	}
	return Problem{}, true
}

// unknownMembers lists the members of an object that t has no field for,
// descending into nested objects, so that a typo is reported with its
// full path ("request.metod") rather than as a bare name. Keys must match
// exactly: an import is strict even where encoding/json would accept a
// different case.
func unknownMembers(prefix string, members map[string]json.RawMessage, t reflect.Type) []Problem {
	fields := jsonFields(t)
	var problems []Problem
	for _, key := range slices.Sorted(maps.Keys(members)) {
		ft, ok := fields[key]
		if !ok {
			problems = append(problems, Problem{Field: prefix + key, Problem: "unknown field"})
			continue
		}
		if !isPlainStruct(ft) {
			continue
		}
		var nested map[string]json.RawMessage
		if json.Unmarshal(members[key], &nested) == nil {
			problems = append(problems, unknownMembers(prefix+key+".", nested, ft)...)
		}
	}
	return problems
}

// jsonFields maps the JSON names of t's fields, embedded ones included,
// to their types (pointers removed).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for k, v := range jsonFields(ft) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = ft
	}
	return fields
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// isPlainStruct reports whether t is a struct decoded member by member,
// as opposed to one that decodes itself (time.Time).
func isPlainStruct(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType)
}

// jsonlDecodeProblem names the field behind a decoding error. Type errors
// carry their path; time.Time reports parse errors without one, so the
// time members are tried one by one to find the culprit.
func jsonlDecodeProblem(err error, members map[string]json.RawMessage) Problem {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		// The path runs through the embedded Exchange, which is not
		// part of the format.
		field := strings.TrimPrefix(typ.Field, "Exchange.")
		return Problem{Field: field, Problem: fmt.Sprintf("must be %s; got %s", describeJSONType(typ.Type), typ.Value)}
	}
	for _, key := range []string{"started_at", "virtual_time"} {
		raw, ok := members[key]
		if !ok {
			continue
		}
		var t time.Time
		if json.Unmarshal(raw, &t) != nil {
			return Problem{Field: key, Problem: "must be an RFC 3339 time; got " + string(raw)}
		}
	}
	return Problem{Problem: err.Error()}
}

// describeJSONType names a Go type the way a JSON author thinks of it.
func describeJSONType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.String()
}

// validateImported checks what a journal relies on beyond the JSON shape: an
// exchange without an event or a method cannot be filtered or replayed,
// and an unknown outcome would fall through every report.
func validateImported(x *Exchange) []Problem {
	var problems []Problem
	need := func(field, value string) {
		if value == "" {
			problems = append(problems, Problem{Field: field, Problem: "must not be empty"})
		}
	}
	need("event", x.Event)
	need("request.method", x.Request.Method)
	need("request.url", x.Request.URL)
	if e := x.Request.Endpoint; e != "" && !strings.HasPrefix(e, "/") {
		problems = append(problems, Problem{Field: "request.endpoint", Problem: fmt.Sprintf("must start with /; got %q", e)})
	}
	switch x.Outcome {
	case OutcomeOK, OutcomeRefused, OutcomeTimeout, OutcomeError:
	default:
		problems = append(problems, Problem{Field: "outcome", Problem: fmt.Sprintf(
			"must be one of %s, %s, %s, %s; got %q", OutcomeOK, OutcomeRefused, OutcomeTimeout, OutcomeError, x.Outcome)})
	}
	if x.StartedAt.IsZero() {
		problems = append(problems, Problem{Field: "started_at", Problem: "must be set"})
	} else if !storable(x.StartedAt) {
		problems = append(problems, Problem{Field: "started_at", Problem: "must be between 1678 and 2262; got " + x.StartedAt.Format(time.RFC3339)})
	}
	if !x.VirtualTime.IsZero() && !storable(x.VirtualTime) {
		problems = append(problems, Problem{Field: "virtual_time", Problem: "must be between 1678 and 2262; got " + x.VirtualTime.Format(time.RFC3339)})
	}
	if x.DurationMS < 0 {
		problems = append(problems, Problem{Field: "duration_ms", Problem: fmt.Sprintf("must not be negative; got %v", x.DurationMS)})
	}
	return problems
}

// storable reports whether t is within the range the journal stores
// exactly (Unix nanoseconds in an int64).
func storable(t time.Time) bool { return !t.Before(minNanos) && !t.After(maxNanos) }
