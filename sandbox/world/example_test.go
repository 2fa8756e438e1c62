package world_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/world"
)

// The same seed and clock always give the same installation, so a scenario
// can be replayed from its seed alone.
func ExampleGenerate() {
	now := time.Date(2025, 3, 31, 10, 30, 0, 0, time.UTC)
	w := world.Generate(42, now)

	fmt.Println("plans:", len(w.Plans))
	fmt.Println("first plan:", w.Plans[0].Name, w.Plans[0].SKU)
	counts := map[world.Status]int{}
	for _, s := range w.Subscriptions {
		counts[s.Status]++
	}
	for _, st := range []world.Status{world.StatusActive, world.StatusDelivered, world.StatusGraced,
		world.StatusStopped, world.StatusDeleted, world.StatusRenewingFailed} {
		fmt.Printf("%s: %d\n", st, counts[st])
	}
	for _, s := range w.Subscriptions {
		if s.Status == world.StatusRenewingFailed {
			fmt.Println("failed renewal can retry:", s.Ability.Retry, "pending:", s.Pending.Kind)
		}
	}

	a, _ := json.Marshal(w)
	b, _ := json.Marshal(world.Generate(42, now))
	fmt.Println("same seed, same JSON:", bytes.Equal(a, b))
	// Output:
	// plans: 10
	// first plan: Google Workspace Enterprise Starter 1010020029
	// active: 8
	// delivered: 1
	// graced: 1
	// stopped: 1
	// deleted: 1
	// renewing_failed: 1
	// failed renewal can retry: true pending: renew
	// same seed, same JSON: true
}
