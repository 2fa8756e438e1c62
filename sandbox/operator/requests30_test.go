package operator

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestRequestSchemasAre30: requests are validated against openapi.yaml
// read as OpenAPI 3.0 (see loadSpec), which is only right while no
// parameter or request body schema uses what 3.1 added. This test fails
// when one does, naming it.
func TestRequestSchemasAre30(t *testing.T) {
	doc, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, op.Parameters...)
			for _, p := range params {
				if p.Value != nil {
					checked += check30(t, where+" parameter "+p.Value.Name, p.Value.Schema, map[*openapi3.Schema]bool{})
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for mt, c := range op.RequestBody.Value.Content {
					checked += check30(t, where+" body "+mt, c.Schema, map[*openapi3.Schema]bool{})
				}
			}
		}
	}
	t.Logf("%d request schemas checked", checked)
	if checked < 50 {
		t.Errorf("only %d request schemas checked; the walk is broken", checked)
	}
}

// check30 reports schema features that OpenAPI 3.0 reads differently or
// not at all, and returns how many schemas it looked at.
func check30(t *testing.T, where string, ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) int {
	t.Helper()
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return 0
	}
	s := ref.Value
	seen[s] = true
	switch {
	case s.Type != nil && len(*s.Type) > 1:
		t.Errorf("%s: type %v is a 3.1 type list", where, *s.Type)
	case s.Const != nil, len(s.PrefixItems) > 0, s.Contains != nil, len(s.PatternProperties) > 0,
		len(s.DependentSchemas) > 0, s.PropertyNames != nil, s.If != nil, s.Then != nil, s.Else != nil,
		len(s.DependentRequired) > 0, len(s.Defs) > 0, s.ContentSchema != nil,
		s.UnevaluatedItems.Has != nil, s.UnevaluatedItems.Schema != nil,
		s.UnevaluatedProperties.Has != nil, s.UnevaluatedProperties.Schema != nil:
		t.Errorf("%s uses a JSON Schema 2020-12 keyword", where)
	case s.ExclusiveMin.IsSet() || s.ExclusiveMax.IsSet():
		t.Errorf("%s: exclusiveMinimum/Maximum mean different things in 3.0 and 3.1", where)
	case len(s.Examples) > 0:
		// Annotations only: fine.
	}
	n := 1
	for name, p := range s.Properties {
		n += check30(t, where+"."+name, p, seen)
	}
	n += check30(t, where+"[]", s.Items, seen)
	if s.AdditionalProperties.Schema != nil {
		n += check30(t, where+".*", s.AdditionalProperties.Schema, seen)
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, sub := range group {
			n += check30(t, where, sub, seen)
		}
	}
	n += check30(t, where+" (not)", s.Not, seen)
	return n
}
