package world

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

func TestClone(t *testing.T) {
	w := Generate(3, testNow)
	// The clock's fields are not seeded; give one subscription each, so
	// that sharing them would show.
	stopped := testNow.Add(-time.Hour)
	w.Subscriptions[0].StoppedAt = &stopped
	w.Subscriptions[0].ClockMarks = map[string]time.Time{"grace_end": testNow}
	before := mustJSON(t, w)
	c := w.Clone()
	if !reflect.DeepEqual(w, c) {
		t.Fatal("Clone() is not deep-equal to the original")
	}
	if !bytes.Equal(before, mustJSON(t, c)) {
		t.Fatal("Clone() marshals differently")
	}
	noShared(t, "World", reflect.ValueOf(w), reflect.ValueOf(c))

	// Change every kind of nested value in the clone; the original must
	// not move.
	mutations := []struct {
		name string
		f    func(c *World)
	}{
		{"distributor attributes", func(c *World) { c.Distributors[0].Attributes["certificate_password"] = "x" }},
		{"reseller attributes", func(c *World) { c.Resellers[0].Attributes["reseller_public_id"] = "x" }},
		{"reseller core attributes", func(c *World) { c.Resellers[0].CoreAttributes["x"] = "y" }},
		{"tenant", func(c *World) { c.Tenants[0].Contact.Email = "x@example.com" }},
		{"user", func(c *World) { c.Users[0].VendorID = "v" }},
		{"service term", func(c *World) { c.ServiceTerms[0].GracePeriod = 99 }},
		{"plan period", func(c *World) { c.Plans[0].Periods[0].Price = 1 }},
		{"plan resource", func(c *World) { c.Plans[0].Resources[0].Max = 1 }},
		{"plan attributes", func(c *World) { c.Plans[0].Attributes["x"] = "y" }},
		{"subscription resources", func(c *World) { c.Subscriptions[0].Resources["user_licenses"] = 999 }},
		{"subscription attributes", func(c *World) { c.Subscriptions[0].Attributes["x"] = "y" }},
		{"subscription order attributes", func(c *World) { c.Subscriptions[0].OrderAttributes["x"] = "y" }},
		{"subscription expiration", func(c *World) { *c.Subscriptions[0].ExpirationDate = time.Time{} }},
		{"subscription stopped at", func(c *World) { *c.Subscriptions[0].StoppedAt = time.Time{} }},
		{"subscription clock marks", func(c *World) { c.Subscriptions[0].ClockMarks["x"] = testNow }},
		{"pending resources", func(c *World) {
			for i := range c.Subscriptions {
				if p := c.Subscriptions[i].Pending; p != nil {
					p.Resources["x"] = 1
					p.Kind = OpDelete
				}
			}
		}},
		{"order resources", func(c *World) { c.Orders[0].Resources["x"] = 1 }},
		{"appended subscription", func(c *World) { c.Subscriptions = append(c.Subscriptions[:1], Subscription{ID: 1}) }},
		{"next id", func(c *World) { c.NewID() }},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			c := w.Clone()
			m.f(c)
			if !bytes.Equal(before, mustJSON(t, w)) {
				t.Errorf("changing the clone's %s changed the original", m.name)
			}
		})
	}

	if (*World)(nil).Clone() != nil {
		t.Error("nil.Clone() != nil")
	}
	empty := (&World{}).Clone()
	if !reflect.DeepEqual(empty, &World{}) {
		t.Errorf("empty world clones to %+v", empty)
	}
}

// noShared fails when a and b share any map, slice backing array or
// pointer, so that a field added to the model later without a deep copy in
// Clone is caught here. time.Time is skipped: its location pointer is
// immutable and meant to be shared.
func noShared(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	if a.Type() == reflect.TypeFor[time.Time]() {
		return
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s: pointer shared", path)
			return
		}
		noShared(t, path, a.Elem(), b.Elem())
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			t.Errorf("%s: map shared", path)
		}
		iter := a.MapRange()
		for iter.Next() {
			noShared(t, path+"["+iter.Key().String()+"]", iter.Value(), b.MapIndex(iter.Key()))
		}
	case reflect.Slice:
		if a.Cap() > 0 && a.Pointer() == b.Pointer() {
			t.Errorf("%s: slice backing array shared", path)
			return
		}
		for i := range a.Len() {
			noShared(t, path+"[]", a.Index(i), b.Index(i))
		}
	case reflect.Struct:
		for i := range a.NumField() {
			noShared(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
		}
	}
}
