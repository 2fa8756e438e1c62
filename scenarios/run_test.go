package scenarios_test

import (
	"os"
	"testing"

	"github.com/apsandbox/apsandbox/scenarios"
)

func TestLibraryScenariosPass(t *testing.T) {
	r, _ := newRunner(t)
	scs, err := scenarios.Load("all")
	if err != nil {
		t.Fatal(err)
	}
	rep := r.RunAll(t.Context(), scs)
	rep.WriteText(os.Stdout)
	if !rep.Passed {
		t.Fatal("built-ins failed")
	}
}
