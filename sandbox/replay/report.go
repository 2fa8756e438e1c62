package replay

import (
	"fmt"
	"io"
	"strings"
)

// Item is the result of replaying one recorded exchange.
type Item struct {
	ExchangeID int64  `json:"exchange_id"`
	Event      string `json:"event"`
	Method     string `json:"method"`
	URL        string `json:"url"`
	// Error says why the replayed call got no answer, or was not sent.
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	Diff
}

// Summary counts the items by verdict.
type Summary struct {
	Total   int `json:"total"`
	Equal   int `json:"equal"`
	Changed int `json:"changed"`
	Failed  int `json:"failed"`
}

// Report is the result of a replay, in the order the calls were sent.
type Report struct {
	// Target is the base URL replayed against; "" when each call went to
	// the URL it was recorded with.
	Target  string   `json:"target"`
	Ignore  []string `json:"ignore"`
	Summary Summary  `json:"summary"`
	Items   []Item   `json:"items"`
}

// Add appends an item and counts it.
func (r *Report) Add(it Item) {
	r.Items = append(r.Items, it)
	r.Summary.Total++
	switch it.Verdict {
	case Equal:
		r.Summary.Equal++
	case Changed:
		r.Summary.Changed++
	default:
		r.Summary.Failed++
	}
}

// OK reports whether every replayed answer equals its recording.
func (r *Report) OK() bool { return r.Summary.Changed == 0 && r.Summary.Failed == 0 }

// WriteText writes the report for a person: one line per call, the
// changes of a changed one below it, and the counts last.
//
//	changed  #4 subscription.renew  POST http://… 200 → 422
//	         add /task {"error_message":"renewals are paused"}
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	target := r.Target
	if target == "" {
		target = "the recorded URLs"
	}
	fmt.Fprintf(&b, "replay of %d exchange(s) against %s", r.Summary.Total, target)
	if len(r.Ignore) > 0 {
		fmt.Fprintf(&b, ", ignoring %s", strings.Join(r.Ignore, ", "))
	}
	b.WriteString("\n\n")
	for _, it := range r.Items {
		fmt.Fprintf(&b, "%-8s #%d %s  %s %s", it.Verdict, it.ExchangeID, it.Event, it.Method, it.URL)
		switch {
		case it.Verdict == Failed:
			fmt.Fprintf(&b, "  %s\n", it.Error)
			continue
		case it.StatusChanged:
			fmt.Fprintf(&b, "  %d → %d", it.RecordedStatus, it.ReplayedStatus)
		default:
			fmt.Fprintf(&b, "  %d", it.ReplayedStatus)
		}
		b.WriteString("\n")
		for _, c := range it.Changes {
			path := c.Path
			if path == "" {
				path = "(body)"
			}
			fmt.Fprintf(&b, "         %-7s %s", c.Op, path)
			switch c.Op {
			case "add":
				fmt.Fprintf(&b, " %s", c.Replayed)
			case "remove":
				fmt.Fprintf(&b, " (was %s)", c.Recorded)
			default:
				fmt.Fprintf(&b, " %s → %s", c.Recorded, c.Replayed)
			}
			b.WriteString("\n")
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "\n%d equal, %d changed, %d failed of %d\n", s.Equal, s.Changed, s.Failed, s.Total)
	_, err := io.WriteString(w, b.String())
	return err
}
