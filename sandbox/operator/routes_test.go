package operator

import (
	"regexp"
	"slices"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestRoutesMatchSpec: the engine serves exactly the operations of
// openapi.yaml, no more and no fewer.
func TestRoutesMatchSpec(t *testing.T) {
	doc, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	var want []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			want = append(want, method+" "+param.ReplaceAllString(path, ":$1"))
		}
	}
	slices.Sort(want)

	e := gin.New()
	New(newFake()).Register(e)
	var got []string
	for _, r := range e.Routes() {
		got = append(got, r.Method+" "+r.Path)
	}
	slices.Sort(got)

	for _, r := range got {
		if _, found := slices.BinarySearch(want, r); !found {
			t.Errorf("route %s is served but not in openapi.yaml", r)
		}
	}
	for _, r := range want {
		if _, found := slices.BinarySearch(got, r); !found {
			t.Errorf("operation %s is in openapi.yaml but not served", r)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d routes served, %d operations documented", len(got), len(want))
	}
}

// TestRegisterOnGroup: Register works on any router, not only the engine.
func TestRegisterOnGroup(t *testing.T) {
	e := gin.New()
	New(newFake()).Register(e.Group(""))
	if n := len(e.Routes()); n == 0 {
		t.Fatal("no route registered on a group")
	}
}
