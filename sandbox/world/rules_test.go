package world

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fixture ids for the rules tests.
const (
	fxReseller       = 1
	fxLockedReseller = 2
	fxTenant         = 10
	fxLockedTenant   = 11

	fxPlanMonthly   = 20
	fxPeriodTrial   = 201
	fxPeriodMonthly = 202
	fxPlanEndless   = 21
	fxPeriodEndless = 211
	fxPlanOneTime   = 22
	fxPeriodOneTime = 221
	fxPlanPAYG      = 23
	fxPeriodPAYG    = 231
	fxPlanLocked    = 24
	fxPeriodLocked  = 241
)

// fixture is a hand-made world with one plan of each kind, so that rule
// tests do not depend on what a seed happens to generate.
func fixture() *World {
	return &World{
		Resellers: []Reseller{{ID: fxReseller}, {ID: fxLockedReseller, AutoRenewLocked: true}},
		Tenants:   []Tenant{{ID: fxTenant, ResellerID: fxReseller}, {ID: fxLockedTenant, ResellerID: fxLockedReseller}},
		Plans: []Plan{
			{ID: fxPlanMonthly, BillingType: BillingRecurring, Periods: []Period{
				{ID: fxPeriodTrial, Value: 30, Type: PeriodDay, Trial: true},
				{ID: fxPeriodMonthly, Value: 1, Type: PeriodMonth, Price: 500},
			}},
			{ID: fxPlanEndless, BillingType: BillingRecurring, Periods: []Period{{ID: fxPeriodEndless, Type: PeriodYear, Endless: true}}},
			{ID: fxPlanOneTime, BillingType: BillingNonRecurring, Periods: []Period{{ID: fxPeriodOneTime, Value: 1, Type: PeriodYear}}},
			{ID: fxPlanPAYG, BillingType: BillingPayAsYouGo, Periods: []Period{{ID: fxPeriodPAYG, Value: 1, Type: PeriodMonth}}},
			{ID: fxPlanLocked, BillingType: BillingRecurring, AutoRenewLocked: true, Periods: []Period{{ID: fxPeriodLocked, Value: 1, Type: PeriodMonth}}},
		},
	}
}

func TestAbility(t *testing.T) {
	full := Ability{Renew: true, ChangeResources: true, AddResources: true, SwitchPlan: true, Stop: true, Delete: true, ChangeAutoRenew: true}
	without := func(a Ability, f func(*Ability)) Ability { f(&a); return a }
	sub := func(status Status, plan, period int64) Subscription {
		return Subscription{ID: 100, TenantID: fxTenant, ResellerID: fxReseller, PlanID: plan, PeriodID: period, Status: status}
	}
	monthly := func(status Status) Subscription { return sub(status, fxPlanMonthly, fxPeriodMonthly) }

	type tc struct {
		name string
		s    Subscription
		want Ability
	}
	tests := []tc{
		{"active monthly can do everything", monthly(StatusActive), full},
		{"active trial cannot add resources", func() Subscription {
			s := sub(StatusActive, fxPlanMonthly, fxPeriodTrial)
			s.Trial = true
			return s
		}(), without(full, func(a *Ability) { a.AddResources = false })},
		{"trial flag alone blocks adding resources", func() Subscription {
			s := monthly(StatusActive)
			s.Trial = true
			return s
		}(), without(full, func(a *Ability) { a.AddResources = false })},
		{"active endless cannot renew or change auto-renew", sub(StatusActive, fxPlanEndless, fxPeriodEndless),
			without(full, func(a *Ability) { a.Renew, a.ChangeAutoRenew = false, false })},
		{"active non-recurring cannot renew, change or switch", sub(StatusActive, fxPlanOneTime, fxPeriodOneTime),
			Ability{Stop: true, Delete: true}},
		{"active pay-as-you-go cannot change resources", sub(StatusActive, fxPlanPAYG, fxPeriodPAYG),
			without(full, func(a *Ability) { a.ChangeResources, a.AddResources = false, false })},
		{"subscription lock", func() Subscription {
			s := monthly(StatusActive)
			s.AutoRenewLocked = true
			return s
		}(), without(full, func(a *Ability) { a.ChangeAutoRenew = false })},
		{"plan lock", sub(StatusActive, fxPlanLocked, fxPeriodLocked), without(full, func(a *Ability) { a.ChangeAutoRenew = false })},
		{"reseller lock", func() Subscription {
			s := monthly(StatusActive)
			s.TenantID, s.ResellerID = fxLockedTenant, fxLockedReseller
			return s
		}(), without(full, func(a *Ability) { a.ChangeAutoRenew = false })},
		{"reseller lock found through the tenant", func() Subscription {
			s := monthly(StatusActive)
			s.TenantID, s.ResellerID = fxLockedTenant, 0
			return s
		}(), without(full, func(a *Ability) { a.ChangeAutoRenew = false })},
		{"active on an unknown plan can only stop or delete", sub(StatusActive, 999, 1), Ability{Stop: true, Delete: true}},
		{"active on an unknown period can only stop or delete", sub(StatusActive, fxPlanMonthly, 999), Ability{Stop: true, Delete: true}},
		{"delivered", sub(StatusDelivered, fxPlanOneTime, fxPeriodOneTime), Ability{Stop: true, Delete: true}},
		{"graced", monthly(StatusGraced), Ability{Renew: true, Stop: true, Delete: true}},
		{"graced endless cannot renew", sub(StatusGraced, fxPlanEndless, fxPeriodEndless), Ability{Stop: true, Delete: true}},
		{"stopped can activate and renew", monthly(StatusStopped), Ability{Activate: true, Renew: true, Delete: true}},
		{"stopped trial can renew (CR-799)", func() Subscription {
			s := sub(StatusStopped, fxPlanMonthly, fxPeriodTrial)
			s.Trial = true
			return s
		}(), Ability{Activate: true, Renew: true, Delete: true}},
		{"stopped endless cannot renew", sub(StatusStopped, fxPlanEndless, fxPeriodEndless), Ability{Activate: true, Delete: true}},
		{"stopped non-recurring cannot renew", sub(StatusStopped, fxPlanOneTime, fxPeriodOneTime), Ability{Activate: true, Delete: true}},
		{"blocked", monthly(StatusBlocked), Ability{Stop: true, Delete: true}},
		{"ordered", monthly(StatusOrdered), Ability{Delete: true}},
		{"deleted", monthly(StatusDeleted), Ability{}},
		{"renewing failed can also stop", monthly(StatusRenewingFailed), Ability{Retry: true, Stop: true, Delete: true}},
		{"updating failed can also stop", monthly(StatusUpdatingFailed), Ability{Retry: true, Stop: true, Delete: true}},
	}
	for _, st := range []Status{StatusInstallationFailed, StatusActivationFailed, StatusStoppingFailed, StatusDeletionFailed} {
		tests = append(tests, tc{string(st), monthly(st), Ability{Retry: true, Delete: true}})
	}
	for _, st := range []Status{StatusInstalling, StatusActivating, StatusUpdating, StatusRenewing, StatusStopping, StatusDeleting, StatusWaitingForManualApprove} {
		tests = append(tests, tc{"transitional " + string(st), monthly(st), Ability{}})
	}
	w := fixture()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.Ability(&tt.s); got != tt.want {
				t.Errorf("Ability() = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := w.Ability(nil); got != (Ability{}) {
		t.Errorf("Ability(nil) = %+v, want nothing", got)
	}
}

func TestRefreshAbilities(t *testing.T) {
	w := fixture()
	w.Subscriptions = []Subscription{
		{ID: 100, TenantID: fxTenant, ResellerID: fxReseller, PlanID: fxPlanMonthly, PeriodID: fxPeriodMonthly, Status: StatusStopped},
		{ID: 101, TenantID: fxTenant, ResellerID: fxReseller, PlanID: fxPlanMonthly, PeriodID: fxPeriodMonthly, Status: StatusDeleted, Ability: Ability{Delete: true}},
	}
	w.RefreshAbilities()
	for i := range w.Subscriptions {
		s := &w.Subscriptions[i]
		if want := w.Ability(s); s.Ability != want {
			t.Errorf("subscription %d: ability %+v, want %+v", s.ID, s.Ability, want)
		}
	}
}

func TestAutoRenewLockedFor(t *testing.T) {
	w := fixture()
	tests := []struct {
		name string
		s    *Subscription
		want bool
	}{
		{"nothing locked", &Subscription{TenantID: fxTenant, ResellerID: fxReseller, PlanID: fxPlanMonthly}, false},
		{"subscription", &Subscription{TenantID: fxTenant, ResellerID: fxReseller, PlanID: fxPlanMonthly, AutoRenewLocked: true}, true},
		{"plan", &Subscription{TenantID: fxTenant, ResellerID: fxReseller, PlanID: fxPlanLocked}, true},
		{"reseller", &Subscription{TenantID: fxLockedTenant, ResellerID: fxLockedReseller, PlanID: fxPlanMonthly}, true},
		{"reseller through tenant", &Subscription{TenantID: fxLockedTenant, PlanID: fxPlanMonthly}, true},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.AutoRenewLockedFor(tt.s); got != tt.want {
				t.Errorf("AutoRenewLockedFor() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLookups(t *testing.T) {
	w := Generate(1, testNow)
	plan := &w.Plans[2]
	tests := []struct {
		name string
		id   int64
		find func(id int64) (int64, bool) // the found entity's id
	}{
		{"tenant", w.Tenants[0].ID, lookup(w.Tenant, func(x *Tenant) int64 { return x.ID })},
		{"reseller", w.Resellers[0].ID, lookup(w.Reseller, func(x *Reseller) int64 { return x.ID })},
		{"distributor", w.Distributors[0].ID, lookup(w.Distributor, func(x *Distributor) int64 { return x.ID })},
		{"plan", w.Plans[0].ID, lookup(w.Plan, func(x *Plan) int64 { return x.ID })},
		{"service term", w.ServiceTerms[0].ID, lookup(w.ServiceTerm, func(x *ServiceTerm) int64 { return x.ID })},
		{"subscription", w.Subscriptions[0].ID, lookup(w.Subscription, func(x *Subscription) int64 { return x.ID })},
		{"order", w.Orders[0].ID, lookup(w.Order, func(x *Order) int64 { return x.ID })},
		{"user", w.Users[0].ID, lookup(w.User, func(x *User) int64 { return x.ID })},
		{"period", plan.Periods[1].ID, lookup(plan.Period, func(x *Period) int64 { return x.ID })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := tt.find(tt.id); !ok || got != tt.id {
				t.Errorf("lookup(%d) = %d, %v; want %d, true", tt.id, got, ok, tt.id)
			}
			if _, ok := tt.find(-1); ok {
				t.Error("lookup(-1) found something")
			}
		})
	}

	// Lookups point into the world.
	s, _ := w.Subscription(w.Subscriptions[3].ID)
	s.Name = "renamed"
	if w.Subscriptions[3].Name != "renamed" {
		t.Error("Subscription() returned a copy, not a pointer into the slice")
	}
	r, ok := w.Plans[0].Resource("user_licenses")
	if !ok || r.Key != "user_licenses" {
		t.Fatalf("Resource(user_licenses) = %v, %v", r, ok)
	}
	r.UnitPrice = 1
	if w.Plans[0].Resources[0].UnitPrice != 1 {
		t.Error("Resource() returned a copy, not a pointer into the slice")
	}
	if _, ok := w.Plans[0].Resource("nope"); ok {
		t.Error("Resource(nope) found something")
	}
}

// lookup adapts a finder to return the found entity's id.
func lookup[T any](find func(int64) (*T, bool), id func(*T) int64) func(int64) (int64, bool) {
	return func(q int64) (int64, bool) {
		x, ok := find(q)
		if !ok || x == nil {
			return 0, false
		}
		return id(x), true
	}
}

func TestDefaultPeriod(t *testing.T) {
	tests := []struct {
		name    string
		periods []Period
		want    int64 // 0: nil
	}{
		{"trial first", []Period{{ID: 1, Trial: true}, {ID: 2}, {ID: 3}}, 2},
		{"paid only", []Period{{ID: 4}}, 4},
		{"trial only", []Period{{ID: 5, Trial: true}}, 0},
		{"none", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{Periods: tt.periods}
			got := p.DefaultPeriod()
			switch {
			case tt.want == 0 && got != nil:
				t.Errorf("DefaultPeriod() = %+v, want nil", got)
			case tt.want != 0 && (got == nil || got.ID != tt.want):
				t.Errorf("DefaultPeriod() = %+v, want period %d", got, tt.want)
			case got != nil && !slices.ContainsFunc(indexes(p.Periods), func(i int) bool { return got == &p.Periods[i] }):
				t.Error("DefaultPeriod() does not point into the plan")
			}
		})
	}
}

func indexes[T any](xs []T) []int {
	out := make([]int, len(xs))
	for i := range xs {
		out[i] = i
	}
	return out
}

func TestAddPeriod(t *testing.T) {
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		from time.Time
		p    Period
		want time.Time
	}{
		{"30 days", at(2025, 3, 1), Period{Value: 30, Type: PeriodDay}, at(2025, 3, 31)},
		{"one month", at(2025, 3, 15), Period{Value: 1, Type: PeriodMonth}, at(2025, 4, 15)},
		{"month over year end", at(2025, 12, 10), Period{Value: 1, Type: PeriodMonth}, at(2026, 1, 10)},
		{"month from Jan 31 normalises", at(2025, 1, 31), Period{Value: 1, Type: PeriodMonth}, at(2025, 3, 3)},
		{"month from Jan 31 in a leap year", at(2024, 1, 31), Period{Value: 1, Type: PeriodMonth}, at(2024, 3, 2)},
		{"three months", at(2025, 1, 10), Period{Value: 3, Type: PeriodMonth}, at(2025, 4, 10)},
		{"one year", at(2025, 6, 1), Period{Value: 1, Type: PeriodYear}, at(2026, 6, 1)},
		{"year from leap day", at(2024, 2, 29), Period{Value: 1, Type: PeriodYear}, at(2025, 3, 1)},
		{"Vendor Portal spelling", at(2025, 3, 15), Period{Value: 1, Type: "Month"}, at(2025, 4, 15)},
		{"unknown unit adds nothing", at(2025, 3, 15), Period{Value: 1, Type: "week"}, at(2025, 3, 15)},
		{"endless value 0 adds nothing", at(2025, 3, 15), Period{Type: PeriodYear, Endless: true}, at(2025, 3, 15)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AddPeriod(tt.from, tt.p); !got.Equal(tt.want) {
				t.Errorf("AddPeriod(%s, %+v) = %s, want %s", tt.from, tt.p, got, tt.want)
			}
		})
	}
}

func TestValidateEmail(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string // "" means valid; else a substring of the message
	}{
		{"plain", "john.smith@example.com", ""},
		{"plus and digits", "ops+billing2@mail.example.co.uk", ""},
		{"atext", "o'neil_x-y@example.org", ""},
		{"hyphenated domain", "a@my-company.de", ""},
		{"empty", "", "empty"},
		{"no at", "john.example.com", "no @"},
		{"nothing before at", "@example.com", "nothing before"},
		{"nothing after at", "john@", "nothing after"},
		{"two ats", "a@b@example.com", "not allowed"},
		{"no dot in domain", "john@localhost", "no dot"},
		{"empty label", "john@example..com", "empty"},
		{"leading dot", ".john@example.com", "dot"},
		{"double dot", "jo..hn@example.com", "dot"},
		{"hyphen label", "john@-example.com", "hyphen"},
		{"non-ascii letter", "jöhn@example.com", "not allowed"},
		{"zero width space", "a\u200b@example.com", "U+200B (ZERO WIDTH SPACE) at position 2"},
		{"byte order mark first", "\ufeffa@example.com", "U+FEFF"},
		{"soft hyphen", "jo\u00adhn@example.com", "U+00AD (SOFT HYPHEN) at position 3"},
		{"no-break space", "john@example.com\u00a0", "U+00A0"},
		{"figure space", "john\u2007@example.com", "U+2007"},
		{"narrow no-break space", "john@exa\u202fmple.com", "U+202F"},
		{"ideographic space", "john@example.com\u3000", "U+3000 at position 17"},
		{"plain space", "john smith@example.com", "U+0020 (SPACE) at position 5"},
		{"tab", "john@example.com\t", "U+0009"},
		{"newline", "john@example.com\n", "U+000A"},
		{"word joiner", "jo\u2060hn@example.com", "U+2060"},
		{"left-to-right mark", "john@example.com\u200e", "U+200E"},
		{"line separator", "john@example.com\u2028", "U+2028"},
		{"invalid utf-8", "jo\xffhn@example.com", "UTF-8"},
		{"local part too long", strings.Repeat("a", 65) + "@example.com", "at most 64"},
		{"too long", "a@" + strings.Repeat("b", 250) + ".com", "at most 254"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateEmail(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ValidateEmail(%q) = %v, want nil", tt.in, err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("ValidateEmail(%q) = nil, want an error with %q", tt.in, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("ValidateEmail(%q) = %q, want it to contain %q", tt.in, err, tt.wantErr)
			case err != nil && ErrorCode(err) != CodeInvalidArgument:
				t.Errorf("ValidateEmail(%q) code = %s, want %s", tt.in, ErrorCode(err), CodeInvalidArgument)
			}
		})
	}
}

func TestFind(t *testing.T) {
	id := func(o *Order) int64 { return o.ID }
	orders := func(ids ...int64) []Order {
		var out []Order
		for _, i := range ids {
			out = append(out, Order{ID: i, Type: fmt.Sprint("o", i)})
		}
		return out
	}
	tests := []struct {
		name   string
		xs     []Order
		id     int64
		wantOK bool
	}{
		{"sorted, first", orders(1, 3, 5, 7), 1, true},
		{"sorted, middle", orders(1, 3, 5, 7), 5, true},
		{"sorted, last", orders(1, 3, 5, 7), 7, true},
		{"sorted, missing between", orders(1, 3, 5, 7), 4, false},
		{"sorted, missing after", orders(1, 3, 5, 7), 9, false},
		{"out of order still found", orders(5, 1, 7, 3), 3, true},
		{"out of order, missing", orders(5, 1, 7, 3), 4, false},
		{"empty", nil, 1, false},
	}
	for _, tt := range tests {
		got, ok := find(tt.xs, tt.id, id)
		if ok != tt.wantOK || (ok && (got.ID != tt.id || got.Type != fmt.Sprint("o", tt.id))) {
			t.Errorf("%s: find(%d) = %+v, %v; want ok=%v", tt.name, tt.id, got, ok, tt.wantOK)
		}
		if ok {
			// A pointer into the slice, so that callers change the world.
			got.Type = "changed"
			if again, _ := find(tt.xs, tt.id, id); again.Type != "changed" {
				t.Errorf("%s: find returned a copy", tt.name)
			}
		}
	}
}

// TestGeneratedWorldsAreSortedByID: find's binary search relies on ids
// increasing along each slice of a generated world.
func TestGeneratedWorldsAreSortedByID(t *testing.T) {
	for seed := int64(1); seed <= 30; seed++ {
		w := Generate(seed, time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
		check := func(kind string, ids []int64) {
			if !slices.IsSorted(ids) {
				t.Errorf("seed %d: %s ids not increasing: %v", seed, kind, ids)
			}
		}
		ids := func(n int, at func(int) int64) []int64 {
			out := make([]int64, n)
			for i := range out {
				out[i] = at(i)
			}
			return out
		}
		check("distributor", ids(len(w.Distributors), func(i int) int64 { return w.Distributors[i].ID }))
		check("reseller", ids(len(w.Resellers), func(i int) int64 { return w.Resellers[i].ID }))
		check("tenant", ids(len(w.Tenants), func(i int) int64 { return w.Tenants[i].ID }))
		check("user", ids(len(w.Users), func(i int) int64 { return w.Users[i].ID }))
		check("plan", ids(len(w.Plans), func(i int) int64 { return w.Plans[i].ID }))
		check("subscription", ids(len(w.Subscriptions), func(i int) int64 { return w.Subscriptions[i].ID }))
		check("order", ids(len(w.Orders), func(i int) int64 { return w.Orders[i].ID }))
		check("service term", ids(len(w.ServiceTerms), func(i int) int64 { return w.ServiceTerms[i].ID }))
	}
}
