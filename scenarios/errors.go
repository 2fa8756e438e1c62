package scenarios

import (
	"cmp"
	"slices"
	"strings"
)

// Error is one problem of a scenario file: where it is, which key, what
// is wrong. Its text is "file:line:column: key: message".
type Error struct {
	Pos Pos `json:"pos"`
	// Key is the path of the offending key, e.g. "steps[2].expect.status";
	// steps count from 1, as the report numbers them. Empty for problems
	// of the file as a whole (a YAML syntax error).
	Key string `json:"key,omitempty"`
	Msg string `json:"message"`
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.Pos.String() + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Key + ": " + e.Msg
}

// Errors is every problem found, in file and position order. Parse and
// Validate return it (as error) so that a person fixes a file in one go
// rather than one complaint per run.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted orders es by file, line and column; problems found in different
// passes then read top to bottom.
func (es Errors) sorted() Errors {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Column, b.Pos.Column))
	})
	return es
}

// asError returns nil for no problems, so that callers can test err != nil.
func (es Errors) asError() error {
	if len(es) == 0 {
		return nil
	}
	return es.sorted()
}
