package vendorapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestInjectExtraFields(t *testing.T) {
	p := `"x_apsandbox_probe":"ignore me"`
	tests := []struct {
		name, in, want string
	}{
		{"empty object", `{}`, `{` + p + `}`},
		{"flat", `{"a":1}`, `{` + p + `,"a":1}`},
		{"nested", `{"a":{"b":{}}}`, `{` + p + `,"a":{` + p + `,"b":{` + p + `}}}`},
		{"objects in arrays", `{"r":[{"k":"x"},{}],"n":[1,2]}`, `{` + p + `,"r":[{` + p + `,"k":"x"},{` + p + `}],"n":[1,2]}`},
		{"attribute maps untouched", `{"attributes":{"a":"1"},"tenant":{"core_attributes":{},"attributes":{"b":"2"}}}`,
			`{` + p + `,"attributes":{"a":"1"},"tenant":{` + p + `,"core_attributes":{},"attributes":{"b":"2"}}}`},
		{"braces and quotes in strings", `{"s":"{\"attributes\":{}}","t":"a\\"}`, `{` + p + `,"s":"{\"attributes\":{}}","t":"a\\"}`},
		{"a value named attributes is not a key", `{"x":"attributes","y":{}}`, `{` + p + `,"x":"attributes","y":{` + p + `}}`},
		{"whitespace", "{ \"a\" : { } }", "{" + p + ", \"a\" : {" + p + " } }"},
		{"not an object", `[{"a":1}]`, `[{` + p + `,"a":1}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(InjectExtraFields([]byte(tt.in)))
			if got != tt.want {
				t.Errorf("InjectExtraFields(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("result is not valid JSON: %s", got)
			}
		})
	}
}

// TestInjectExtraFieldsKeepsTheBody: a real subscription body keeps every
// member and value once the probes are taken out again.
func TestInjectExtraFieldsKeepsTheBody(t *testing.T) {
	in := []byte(`{"external_id":"vs-1","reseller":{"id":2,"attributes":{"k":"v"}},"plan":{"resources":[{"key":"mailbox","quantity":5}],"period":{"value":1,"type":"month"}},"subscription":{"id":7,"attributes":{}}}`)
	out := InjectExtraFields(in)
	var got, want any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(in, &want); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), ProbeKey); n != 6 {
		t.Errorf("%d probes in %s, want 6 (top level, reseller, plan, 1 resource, period, subscription)", n, out)
	}
	if !reflect.DeepEqual(strip(got), want) {
		t.Errorf("without probes the body differs:\n got %v\nwant %v", strip(got), want)
	}
}

// strip removes the probes from a decoded body.
func strip(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, ProbeKey)
		for k, e := range v {
			v[k] = strip(e)
		}
	case []any:
		for i, e := range v {
			v[i] = strip(e)
		}
	}
	return v
}
