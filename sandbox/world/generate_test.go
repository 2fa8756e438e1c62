package world

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testNow is a month end on purpose: it is where month arithmetic breaks.
var testNow = time.Date(2025, 3, 31, 10, 30, 0, 0, time.UTC)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return b
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := Generate(1, testNow), Generate(1, testNow)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Generate(1) twice: worlds differ")
	}
	ja, jb := mustJSON(t, a), mustJSON(t, b)
	if !bytes.Equal(ja, jb) {
		t.Fatal("Generate(1) twice: JSON differs")
	}
	if got := mustJSON(t, Generate(2, testNow)); bytes.Equal(ja, got) {
		t.Error("Generate(2) marshals like Generate(1); the seed is ignored")
	}
	// The same instant in another location and with a monotonic reading is
	// the same now.
	berlin := time.FixedZone("CEST", 2*3600)
	if got := mustJSON(t, Generate(1, testNow.In(berlin).Add(300*time.Millisecond))); !bytes.Equal(ja, got) {
		t.Error("Generate(1) depends on the location or sub-second part of now")
	}
}

// TestGenerateConcurrent catches any shared random state: worlds generated
// in parallel must equal the one generated alone.
func TestGenerateConcurrent(t *testing.T) {
	want := mustJSON(t, Generate(7, testNow))
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Go(func() {
			b, _ := json.Marshal(Generate(7, testNow))
			got[i] = b
		})
	}
	wg.Wait()
	for i, b := range got {
		if !bytes.Equal(b, want) {
			t.Errorf("goroutine %d: world differs from the sequential one", i)
		}
	}
}

var googleSKUs = []string{"1010020029", "1010060005", "1010020030", "1010020031", "1010310005", "1010310008", "1010370001"}

func TestCatalogueCoverage(t *testing.T) {
	w := Generate(1, testNow)
	single := func(p Plan, typ string) bool {
		paid := 0
		for _, x := range p.Periods {
			if !x.Trial {
				paid++
				if x.Type != typ || x.Value != 1 || x.Endless {
					return false
				}
			}
		}
		return paid >= 1
	}
	tests := []struct {
		name string
		ok   func(p Plan) bool
	}{
		{"monthly recurring", func(p Plan) bool {
			return p.BillingType == BillingRecurring && len(p.Periods) == 1 && single(p, PeriodMonth)
		}},
		{"yearly recurring", func(p Plan) bool {
			return p.BillingType == BillingRecurring && len(p.Periods) == 1 && single(p, PeriodYear)
		}},
		{"trial plus paid periods", func(p Plan) bool {
			var trial, paid bool
			for _, x := range p.Periods {
				trial = trial || (x.Trial && x.Value == 30 && x.Type == PeriodDay && x.Price == 0)
				paid = paid || (!x.Trial && x.Price > 0)
			}
			return trial && paid && p.DefaultPeriod() != nil && !p.DefaultPeriod().Trial
		}},
		{"endless", func(p Plan) bool {
			return len(p.Periods) == 1 && p.Periods[0].Endless
		}},
		{"non-recurring with only a setup fee", func(p Plan) bool {
			if p.BillingType != BillingNonRecurring || len(p.Periods) != 1 || p.SetupFee <= 0 {
				return false
			}
			if p.Periods[0].Price != 0 || p.Periods[0].RenewalPrice != 0 {
				return false
			}
			for _, r := range p.Resources {
				if r.UnitPrice != 0 || r.Included != 0 {
					return false
				}
			}
			return len(p.Resources) > 0
		}},
		{"pay as you go, monthly, priced resources", func(p Plan) bool {
			if p.BillingType != BillingPayAsYouGo || !single(p, PeriodMonth) || len(p.Resources) == 0 {
				return false
			}
			for _, r := range p.Resources {
				if r.UnitPrice <= 0 {
					return false
				}
			}
			return true
		}},
		{"auto-renew locked", func(p Plan) bool { return p.AutoRenewLocked }},
		{"price passing 2^31 within limits", func(p Plan) bool {
			for _, r := range p.Resources {
				if r.Max > 0 && int64(r.UnitPrice)*r.Max > math.MaxInt32 {
					return true
				}
			}
			return false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.ContainsFunc(w.Plans, tt.ok) {
				t.Errorf("no plan is %s", tt.name)
			}
		})
	}

	t.Run("google skus", func(t *testing.T) {
		for _, sku := range googleSKUs {
			i := slices.IndexFunc(w.Plans, func(p Plan) bool { return p.SKU == sku })
			if i < 0 {
				t.Errorf("no plan with SKU %s", sku)
				continue
			}
			if !strings.HasPrefix(w.Plans[i].Name, "Google Workspace") {
				t.Errorf("SKU %s: name %q is not a Google Workspace edition", sku, w.Plans[i].Name)
			}
		}
	})

	t.Run("plans", func(t *testing.T) {
		snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
		skus := map[string]bool{}
		for _, p := range w.Plans {
			if p.Name == "" || p.Description == "" || p.SKU == "" || p.Currency != "USD" || p.Attributes == nil {
				t.Errorf("plan %d %q: incomplete: %+v", p.ID, p.Name, p)
			}
			if skus[p.SKU] {
				t.Errorf("plan %d: SKU %s used twice", p.ID, p.SKU)
			}
			skus[p.SKU] = true
			if _, ok := w.ServiceTerm(p.ServiceTermID); !ok {
				t.Errorf("plan %d: service term %d does not exist", p.ID, p.ServiceTermID)
			}
			if len(p.Resources) == 0 {
				t.Errorf("plan %d: no resources", p.ID)
			}
			for _, r := range p.Resources {
				if !snake.MatchString(r.Key) || r.Name == "" || r.Unit == "" {
					t.Errorf("plan %d resource %+v: bad key, name or unit", p.ID, r)
				}
				if r.Included < 0 || r.Min < 0 || r.UnitPrice < 0 || (r.Max != 0 && r.Max < max(r.Min, r.Included)) {
					t.Errorf("plan %d resource %s: inconsistent limits %+v", p.ID, r.Key, r)
				}
			}
		}
	})
}

func TestSubscriptionsCoverStatuses(t *testing.T) {
	w := Generate(1, testNow)
	has := func(ok func(s Subscription) bool) bool { return slices.ContainsFunc(w.Subscriptions, ok) }
	tests := []struct {
		name string
		ok   func(s Subscription) bool
	}{
		{"active", func(s Subscription) bool { return s.Status == StatusActive }},
		{"active trial", func(s Subscription) bool { return s.Status == StatusActive && s.Trial }},
		{"active paid", func(s Subscription) bool { return s.Status == StatusActive && !s.Trial }},
		{"active auto-renew on", func(s Subscription) bool { return s.Status == StatusActive && s.AutoRenew }},
		{"active auto-renew off", func(s Subscription) bool { return s.Status == StatusActive && !s.AutoRenew }},
		{"active locked by reseller on the subscription", func(s Subscription) bool { return s.AutoRenewLocked }},
		{"delivered non-recurring", func(s Subscription) bool {
			p, _ := w.Plan(s.PlanID)
			return s.Status == StatusDelivered && p.BillingType == BillingNonRecurring
		}},
		{"graced", func(s Subscription) bool { return s.Status == StatusGraced }},
		{"stopped", func(s Subscription) bool { return s.Status == StatusStopped }},
		{"deleted", func(s Subscription) bool { return s.Status == StatusDeleted }},
		{"renewing failed with a pending renewal", func(s Subscription) bool {
			if s.Status != StatusRenewingFailed || s.LastError == "" || s.Pending == nil || s.Pending.Kind != OpRenew {
				return false
			}
			o, ok := w.Order(s.Pending.OrderID)
			return ok && o.Status == OrderProvisioningFailed && o.Error == s.LastError && o.Type == OrderRenewal
		}},
	}
	for _, tt := range tests {
		if !has(tt.ok) {
			t.Errorf("no subscription is %s", tt.name)
		}
	}
	if n := len(w.Subscriptions); n < 10 || n > 16 {
		t.Errorf("%d subscriptions, want about 12", n)
	}
}

// TestGenerateInvariants checks the whole world for many seeds and awkward
// dates (month ends, leap day), because the date windows are where a
// generator quietly goes wrong.
func TestGenerateInvariants(t *testing.T) {
	nows := []time.Time{
		testNow,
		time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
	}
	for _, now := range nows {
		for seed := int64(1); seed <= 60; seed++ {
			checkWorld(t, Generate(seed, now), now, seed)
		}
	}
}

var (
	countryRe  = regexp.MustCompile(`^[A-Z]{2}$`)
	currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	phoneRe    = regexp.MustCompile(`^\+[1-9][0-9]{0,2}( [0-9-]+)+$`)
	uuidRe     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

func checkWorld(t *testing.T, w *World, now time.Time, seed int64) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("seed %d, now %s: "+format, append([]any{seed, now.Format(time.DateOnly)}, args...)...)
	}
	if !uuidRe.MatchString(w.APGUID) {
		fail("ap_guid %q is not UUID-shaped", w.APGUID)
	}
	if w.Product.Name == "" || w.Product.Vendor == "" {
		fail("product incomplete: %+v", w.Product)
	}

	// Ids: unique across the world, sorted in every slice, below NextID.
	ids := map[int64]string{}
	seen := func(kind string, id int64) {
		if prev, dup := ids[id]; dup {
			fail("id %d used by %s and %s", id, prev, kind)
		}
		ids[id] = kind
		if id < idBase || id > w.NextID {
			fail("%s id %d outside [%d, NextID %d]", kind, id, idBase, w.NextID)
		}
	}
	seen("product", w.Product.ID)
	checkSorted := func(kind string, n int, id func(int) int64) {
		for i := range n {
			seen(kind, id(i))
			if i > 0 && id(i-1) >= id(i) {
				fail("%s not sorted by id at %d", kind, i)
			}
		}
	}
	checkSorted("distributor", len(w.Distributors), func(i int) int64 { return w.Distributors[i].ID })
	checkSorted("reseller", len(w.Resellers), func(i int) int64 { return w.Resellers[i].ID })
	checkSorted("tenant", len(w.Tenants), func(i int) int64 { return w.Tenants[i].ID })
	checkSorted("user", len(w.Users), func(i int) int64 { return w.Users[i].ID })
	checkSorted("service term", len(w.ServiceTerms), func(i int) int64 { return w.ServiceTerms[i].ID })
	checkSorted("plan", len(w.Plans), func(i int) int64 { return w.Plans[i].ID })
	checkSorted("subscription", len(w.Subscriptions), func(i int) int64 { return w.Subscriptions[i].ID })
	checkSorted("order", len(w.Orders), func(i int) int64 { return w.Orders[i].ID })
	for _, p := range w.Plans {
		for _, x := range p.Periods {
			seen("period", x.ID)
		}
		for _, r := range p.Resources {
			seen("resource", r.ID)
		}
	}

	// No null but the documented nil expiration dates (and the optional
	// pending, which is omitted).
	js := string(mustJSON(t, w))
	if n, want := strings.Count(js, ":null"), strings.Count(js, `"expiration_date":null`); n != want {
		fail("%d nulls in the JSON, want only the %d nil expiration dates", n, want)
	}

	// Channel.
	if len(w.Distributors) != 2 {
		fail("%d distributors, want 2", len(w.Distributors))
	}
	for _, d := range w.Distributors {
		if d.Name == "" || d.Region == "" || !currencyRe.MatchString(d.Currency) || d.Attributes["certificate_password"] == "" {
			fail("distributor incomplete: %+v", d)
		}
		n := 0
		for _, r := range w.Resellers {
			if r.DistributorID == d.ID {
				n++
			}
		}
		if n < 2 || n > 3 {
			fail("distributor %d has %d resellers, want 2-3", d.ID, n)
		}
	}
	locked := false
	for _, r := range w.Resellers {
		locked = locked || r.AutoRenewLocked
		if r.Name == "" || r.CompanyName == "" || r.FirstAddress == "" || r.City == "" || r.Region == "" || r.Zip == "" ||
			!countryRe.MatchString(r.Country) || !currencyRe.MatchString(r.Currency) || !phoneRe.MatchString(r.CompanyPhone) ||
			r.Attributes["reseller_public_id"] == "" || len(r.CoreAttributes) == 0 {
			fail("reseller incomplete: %+v", r)
		}
		if err := ValidateEmail(r.CompanyEmail); err != nil {
			fail("reseller %d: %v", r.ID, err)
		}
	}
	if !locked {
		fail("no reseller locks auto-renew")
	}

	// Tenants and users.
	types := map[string]int{}
	for _, tn := range w.Tenants {
		types[tn.Type]++
		if _, ok := w.Reseller(tn.ResellerID); !ok {
			fail("tenant %d: reseller %d does not exist", tn.ID, tn.ResellerID)
		}
		c := tn.Contact
		if c.FirstName == "" || c.LastName == "" || c.Zip == "" || c.City == "" || c.State == "" || c.AddressLine1 == "" ||
			!countryRe.MatchString(c.Country) || !phoneRe.MatchString(c.Phone) || !phoneRe.MatchString(tn.Owner.Phone) ||
			tn.Owner.FirstName == "" || tn.Owner.LastName == "" {
			fail("tenant %d incomplete: %+v", tn.ID, tn)
		}
		if err := ValidateEmail(c.Email); err != nil {
			fail("tenant %d contact: %v", tn.ID, err)
		}
		for i := range len(c.Email) {
			if c.Email[i] >= 0x80 {
				fail("tenant %d contact e-mail %q is not ASCII", tn.ID, c.Email)
			}
		}
		switch tn.Type {
		case TenantBusiness:
			if tn.CompanyName == "" || !phoneRe.MatchString(c.Fax) {
				fail("business tenant %d: no company name or fax: %+v", tn.ID, tn)
			}
		case TenantPersonal:
			if tn.CompanyName != "" {
				fail("personal tenant %d has company name %q", tn.ID, tn.CompanyName)
			}
		default:
			fail("tenant %d: type %q", tn.ID, tn.Type)
		}
		var owners, others int
		for _, u := range w.Users {
			if u.TenantID != tn.ID {
				continue
			}
			if u.Role == RoleOwner {
				owners++
				if u.FirstName != tn.Owner.FirstName || u.LastName != tn.Owner.LastName {
					fail("tenant %d: owner user %s %s, tenant owner %s %s", tn.ID, u.FirstName, u.LastName, tn.Owner.FirstName, tn.Owner.LastName)
				}
			} else {
				others++
			}
		}
		if owners != 1 || others > 3 {
			fail("tenant %d: %d owners and %d other users, want 1 and 0-3", tn.ID, owners, others)
		}
	}
	if len(w.Tenants) < 6 || types[TenantBusiness] == 0 || types[TenantPersonal] == 0 {
		fail("tenants by type %v, want both among about 8", types)
	}
	logins := map[string]bool{}
	for _, u := range w.Users {
		if _, ok := w.Tenant(u.TenantID); !ok {
			fail("user %d: tenant %d does not exist", u.ID, u.TenantID)
		}
		if !slices.Contains([]string{RoleOwner, RoleAdmin, RoleFinanceManager, RoleUser}, u.Role) || u.Status != "active" || u.VendorID != "" {
			fail("user %d: role %q status %q vendor id %q", u.ID, u.Role, u.Status, u.VendorID)
		}
		if err := ValidateEmail(u.Email); err != nil {
			fail("user %d: %v", u.ID, err)
		}
		if logins[u.Email] {
			fail("login %s used twice", u.Email)
		}
		logins[u.Email] = true
	}

	// Service terms.
	if len(w.ServiceTerms) != 3 {
		fail("%d service terms, want 3", len(w.ServiceTerms))
	}
	days := map[int]bool{}
	manual := false
	for _, st := range w.ServiceTerms {
		if st.BillingDay < 1 || st.BillingDay > 28 || days[st.BillingDay] {
			fail("service term %d: billing day %d out of range or repeated", st.ID, st.BillingDay)
		}
		days[st.BillingDay] = true
		if st.ManualRenewPoint != -1 && st.ManualRenewPoint < st.AutoRenewPoint {
			fail("service term %d: manual renew point %d below auto-renew point %d", st.ID, st.ManualRenewPoint, st.AutoRenewPoint)
		}
		if st.GracePeriod < 1 || st.StopPeriod < 1 {
			fail("service term %d: no grace or stop period", st.ID)
		}
		manual = manual || (st.StopType == TermManual && st.DeleteType == TermManual)
	}
	if !manual {
		fail("no service term stops and deletes manually")
	}

	// Subscriptions and their orders.
	big := false
	for i := range w.Subscriptions {
		s := &w.Subscriptions[i]
		checkSubscription(t, w, s, now, fail)
		sales, renewals := 0, 0
		for _, o := range w.Orders {
			if o.SubscriptionID != s.ID {
				continue
			}
			big = big || o.Total > math.MaxInt32
			switch {
			case o.Type == OrderSales && o.Status == OrderCompleted:
				sales++
			case o.Type == OrderRenewal && o.Status == OrderCompleted:
				renewals++
			}
		}
		if sales != 1 {
			fail("subscription %d has %d completed sales orders, want 1", s.ID, sales)
		}
	}
	if !big {
		fail("no order total passes 2^31")
	}
	for _, o := range w.Orders {
		s, ok := w.Subscription(o.SubscriptionID)
		if !ok || o.TenantID != s.TenantID {
			fail("order %d: subscription %d missing or of another tenant", o.ID, o.SubscriptionID)
			continue
		}
		plan, _ := w.Plan(o.PlanID)
		period, ok := plan.Period(o.PeriodID)
		if !ok {
			fail("order %d: period %d not in plan %d", o.ID, o.PeriodID, o.PlanID)
			continue
		}
		var want Money
		switch o.Type {
		case OrderSales:
			want = salesTotal(plan, *period, o.Resources)
		case OrderRenewal:
			want = renewalTotal(plan, *period, o.Resources)
		}
		if o.Total != want || o.Currency != plan.Currency || o.Resources == nil {
			fail("order %d: total %d %s, want %d %s", o.ID, o.Total, o.Currency, want, plan.Currency)
		}
		if o.UpdatedAt.Before(o.CreatedAt) || o.UpdatedAt.After(now) {
			fail("order %d: created %s updated %s (now %s)", o.ID, o.CreatedAt, o.UpdatedAt, now)
		}
	}
}

func checkSubscription(t *testing.T, w *World, s *Subscription, now time.Time, fail func(string, ...any)) {
	t.Helper()
	tn, ok := w.Tenant(s.TenantID)
	if !ok {
		fail("subscription %d: tenant %d does not exist", s.ID, s.TenantID)
		return
	}
	if s.ResellerID != tn.ResellerID {
		fail("subscription %d: reseller %d, tenant's is %d", s.ID, s.ResellerID, tn.ResellerID)
	}
	plan, ok := w.Plan(s.PlanID)
	if !ok {
		fail("subscription %d: plan %d does not exist", s.ID, s.PlanID)
		return
	}
	period, ok := plan.Period(s.PeriodID)
	if !ok {
		fail("subscription %d: period %d not in plan %d", s.ID, s.PeriodID, s.PlanID)
		return
	}
	if s.Trial != period.Trial {
		fail("subscription %d: trial %v on a period with trial %v", s.ID, s.Trial, period.Trial)
	}
	if len(s.Resources) != len(plan.Resources) {
		fail("subscription %d: resources %v, plan has %d", s.ID, s.Resources, len(plan.Resources))
	}
	for _, r := range plan.Resources {
		q, ok := s.Resources[r.Key]
		if !ok || q < r.Min || (r.Max > 0 && q > r.Max) {
			fail("subscription %d: %s = %d (present %v), want %d..%d", s.ID, r.Key, q, ok, r.Min, r.Max)
		}
	}
	if s.Attributes == nil || s.OrderAttributes == nil || s.ExternalID == "" || s.Name == "" {
		fail("subscription %d: nil attributes, no external id or no name", s.ID)
	}
	if s.CreatedAt.After(s.StartDate) || s.StartDate.After(s.UpdatedAt) || s.UpdatedAt.After(now) {
		fail("subscription %d: created %s, started %s, updated %s, now %s", s.ID, s.CreatedAt, s.StartDate, s.UpdatedAt, now)
	}
	if got := w.Ability(s); got != s.Ability {
		fail("subscription %d: stored ability %+v, computed %+v", s.ID, s.Ability, got)
	}
	noEnd := period.Endless || plan.BillingType == BillingNonRecurring
	if noEnd != (s.ExpirationDate == nil) {
		fail("subscription %d: expiration %v on an endless/non-recurring=%v subscription", s.ID, s.ExpirationDate, noEnd)
		return
	}
	if s.Status == StatusDelivered && plan.BillingType != BillingNonRecurring {
		fail("subscription %d: delivered on a %s plan", s.ID, plan.BillingType)
	}
	if noEnd {
		return
	}
	term, _ := w.ServiceTerm(plan.ServiceTermID)
	exp := *s.ExpirationDate
	grace := time.Duration(term.GracePeriod) * 24 * time.Hour
	stop := time.Duration(term.StopPeriod) * 24 * time.Hour
	var inWindow bool
	switch s.Status {
	case StatusActive, StatusRenewingFailed:
		inWindow = exp.After(now)
	case StatusGraced:
		inWindow = exp.Before(now) && exp.Add(grace).After(now)
	case StatusStopped:
		inWindow = exp.Add(grace).Before(now) && exp.Add(grace+stop).After(now)
	case StatusDeleted:
		inWindow = exp.Add(grace + stop).Before(now)
	default:
		inWindow = true
	}
	if !inWindow {
		fail("subscription %d: %s with expiration %s at now %s", s.ID, s.Status, exp, now)
	}
	// The expiration is a whole number of periods after the start.
	e := s.StartDate
	for e.Before(exp) {
		e = AddPeriod(e, *period)
	}
	if !e.Equal(exp) {
		fail("subscription %d: expiration %s is not whole periods after start %s", s.ID, exp, s.StartDate)
	}
}
