package replay_test

import (
	"fmt"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/replay"
)

// A vendor's new build refuses a renewal the old one accepted. The
// request id and timestamp differ on every call, so they are ignored.
func ExampleCompare() {
	recorded := &journal.Response{Status: 200, Body: `{"request_id":"r-1","at":"2026-01-01T09:00:00Z"}`}
	replayed := &journal.Response{Status: 422, Body: `{"request_id":"r-2","at":"2026-03-07T17:12:09Z","task":{"error_message":"renewals are paused"}}`}
	ignore, err := replay.ParsePatterns([]string{"/request_id", "/**/at"})
	if err != nil {
		panic(err)
	}
	d := replay.Compare(recorded, replayed, ignore)
	fmt.Println(d.Verdict, d.RecordedStatus, "→", d.ReplayedStatus)
	for _, c := range d.Changes {
		fmt.Println(c.Op, c.Path, string(c.Replayed))
	}
	// Output:
	// changed 200 → 422
	// add /task {"error_message":"renewals are paused"}
}
