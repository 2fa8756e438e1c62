package platform

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
)

func TestParseDelivery(t *testing.T) {
	tests := []struct {
		in      string
		want    Delivery
		wantErr string // a part of the error; "" for none
	}{
		{in: "duplicate", want: Delivery{Duplicate: true}},
		{in: "extra_fields", want: Delivery{ExtraFields: true}},
		{in: "late", want: Delivery{Late: true}},
		{in: "timeout_ms=250", want: Delivery{TimeoutMS: 250}},
		{in: "timeout_ms=1", want: Delivery{TimeoutMS: 1}},
		{in: "timeout_ms=300000", want: Delivery{TimeoutMS: 300000}},
		{in: " late , duplicate,extra_fields , timeout_ms = 20 ", want: Delivery{TimeoutMS: 20, Duplicate: true, ExtraFields: true, Late: true}},
		{in: "", want: Delivery{}},
		{in: "  ", want: Delivery{}},
		{in: ",", wantErr: "empty item"},
		{in: "duplicate,", wantErr: "empty item"},
		{in: "duplicate,,late", wantErr: "empty item"},
		{in: "duplicate,duplicate", wantErr: "names duplicate twice"},
		{in: "timeout_ms=1,timeout_ms=2", wantErr: "names timeout_ms twice"},
		{in: "timeout_ms", wantErr: "timeout_ms needs a value"},
		{in: "timeout_ms=", wantErr: "timeout_ms needs a value"},
		{in: "timeout_ms=0", wantErr: "from 1 to 300000, got \"0\""},
		{in: "timeout_ms=300001", wantErr: "from 1 to 300000"},
		{in: "timeout_ms=-5", wantErr: "from 1 to 300000"},
		{in: "timeout_ms=1.5", wantErr: "from 1 to 300000"},
		{in: "timeout_ms=abc", wantErr: "from 1 to 300000"},
		{in: "duplicate=true", wantErr: "duplicate takes no value"},
		{in: "Duplicate", wantErr: "unknown item \"Duplicate\""},
		{in: "reorder", wantErr: "unknown item \"reorder\"; known: timeout_ms=N, duplicate, extra_fields, late"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDelivery(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ParseDelivery(%q): %v", tt.in, err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("ParseDelivery(%q) = %+v, want an error with %q", tt.in, got, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("ParseDelivery(%q) error %q, want it to contain %q", tt.in, err, tt.wantErr)
			case tt.wantErr != "":
				if got != (Delivery{}) {
					t.Errorf("ParseDelivery(%q) = %+v with an error, want the zero Delivery", tt.in, got)
				}
			case got != tt.want:
				t.Errorf("ParseDelivery(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestDeliveryStringRoundTrips: String writes what ParseDelivery reads.
func TestDeliveryStringRoundTrips(t *testing.T) {
	for _, d := range []Delivery{
		{TimeoutMS: 5}, {Duplicate: true}, {ExtraFields: true, Late: true},
		{TimeoutMS: 300000, Duplicate: true, ExtraFields: true, Late: true},
	} {
		got, err := ParseDelivery(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDelivery(%q) = %+v, %v; want %+v", d.String(), got, err, d)
		}
	}
	if s := (Delivery{}).String(); s != "" {
		t.Errorf("zero Delivery String() = %q, want \"\"", s)
	}
}

func TestDeliveryContext(t *testing.T) {
	ctx := context.Background()
	if d := DeliveryOf(ctx); d != (Delivery{}) {
		t.Errorf("DeliveryOf(background) = %+v, want zero", d)
	}
	want := Delivery{TimeoutMS: 7, Late: true}
	ctx = WithDelivery(ctx, want)
	if d := DeliveryOf(ctx); d != want {
		t.Errorf("DeliveryOf = %+v, want %+v", d, want)
	}
	if d := DeliveryOf(withoutLate(ctx)); d != (Delivery{TimeoutMS: 7}) {
		t.Errorf("withoutLate keeps %+v, want only the timeout", d)
	}
}

func TestDeliveryShape(t *testing.T) {
	call := vendorapi.Call{Settings: vendorapi.Settings{TimeoutMS: 10000}, Body: map[string]any{"a": map[string]int{"b": 1}}}
	got := Delivery{TimeoutMS: 30, ExtraFields: true}.shape(call)
	if got.Settings.Timeout() != 30*time.Millisecond {
		t.Errorf("timeout %s, want 30ms", got.Settings.Timeout())
	}
	want := `{"x_apsandbox_probe":"ignore me","a":{"x_apsandbox_probe":"ignore me","b":1}}`
	if body, _ := got.Body.(interface{ MarshalJSON() ([]byte, error) }); body == nil {
		t.Fatalf("body %T, want encoded JSON", got.Body)
	} else if b, _ := body.MarshalJSON(); string(b) != want {
		t.Errorf("body %s, want %s", b, want)
	}
	if same := (Delivery{}).shape(call); same.Settings.TimeoutMS != 10000 || same.Body == nil {
		t.Errorf("the zero Delivery changed the call: %+v", same)
	}
}

func TestLateURL(t *testing.T) {
	rec := journal.Request{URL: "http://old.example/api/subscription/renew?ap_guid=g&reseller_id=3", Endpoint: "/subscription/renew"}
	got, err := lateURL("http://vendor.test/v1/", rec)
	if want := "http://vendor.test/v1/subscription/renew?ap_guid=g&reseller_id=3"; err != nil || got != want {
		t.Errorf("lateURL = %q, %v; want %q", got, err, want)
	}
	if _, err := lateURL("http://vendor.test", journal.Request{URL: "http://x/"}); err == nil {
		t.Error("lateURL without an endpoint: no error")
	}
}
