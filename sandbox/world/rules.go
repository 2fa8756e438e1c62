package world

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Ability is the set of operations the platform allows on s now. It is
// computed, never stored by hand, so that the platform and the operator API
// cannot disagree about what a subscription may do; platform code stores
// the result in s.Ability after every change (see RefreshAbilities).
//
// The rules, from the operator guide, the vendor docs and release notes:
//   - transitional or deleted: nothing — an operation is in flight on the
//     vendor side, or there is nothing left to operate on;
//   - failed: Retry and Delete, and Stop after a failed renewal or update
//     (the subscription still works there). Retry is offered even without
//     s.Pending; whoever retries must still find the pending operation;
//   - active: Renew unless the period is endless or the plan non-recurring;
//     ChangeResources unless non-recurring or pay-as-you-go; AddResources as
//     ChangeResources but never on a trial (trial resources cannot be
//     upgraded); SwitchPlan unless non-recurring; Stop; Delete;
//     ChangeAutoRenew on a renewable subscription no one has locked;
//   - delivered (non-recurring done): Stop and Delete, by a manager only;
//   - graced: Renew, Stop, Delete;
//   - stopped: Activate, Renew (even to a trial period, CR-799), Delete;
//   - blocked: Stop and Delete ("do not renew/activate a Blocked
//     subscription");
//   - ordered: Delete.
//
// Renewal is never offered where it cannot work (endless period,
// non-recurring plan), whatever the status. When the plan or period cannot
// be found the subscription can only be stopped, activated or deleted as
// its status allows: anything priced needs the plan.
func (w *World) Ability(s *Subscription) Ability {
	var a Ability
	if s == nil || s.Status == StatusDeleted || s.Status.Transitional() {
		return a
	}
	plan, known := w.Plan(s.PlanID)
	var period *Period
	if known {
		period, known = plan.Period(s.PeriodID)
	}
	var nonRecurring, payg, endless, trial bool
	if known {
		nonRecurring = plan.BillingType == BillingNonRecurring
		payg = plan.BillingType == BillingPayAsYouGo
		endless = period.Endless
		trial = period.Trial
	}
	trial = trial || s.Trial
	renewable := known && !nonRecurring && !endless
	changeable := known && !nonRecurring && !payg
	switchable := known && !nonRecurring

	switch {
	case s.Status.Failed():
		a.Retry = true
		a.Delete = true
		a.Stop = s.Status == StatusRenewingFailed || s.Status == StatusUpdatingFailed
	case s.Status == StatusActive:
		a.Renew = renewable
		a.ChangeResources = changeable
		a.AddResources = changeable && !trial
		a.SwitchPlan = switchable
		a.Stop = true
		a.Delete = true
		a.ChangeAutoRenew = renewable && !w.AutoRenewLockedFor(s)
	case s.Status == StatusDelivered:
		a.Stop = true
		a.Delete = true
	case s.Status == StatusGraced:
		a.Renew = renewable
		a.Stop = true
		a.Delete = true
	case s.Status == StatusStopped:
		a.Activate = true
		a.Renew = renewable
		a.Delete = true
	case s.Status == StatusBlocked:
		a.Stop = true
		a.Delete = true
	case s.Status == StatusOrdered:
		a.Delete = true
	}
	return a
}

// RefreshAbilities recomputes Ability on every subscription, for after a
// change that can affect many of them at once (a world was generated or
// loaded, a plan or reseller lock changed).
func (w *World) RefreshAbilities() {
	for i := range w.Subscriptions {
		w.Subscriptions[i].Ability = w.Ability(&w.Subscriptions[i])
	}
}

// AutoRenewLockedFor reports whether the reseller has forbidden changing
// the auto-renew option of s: on the subscription itself, on its plan, or
// for everything the reseller sold (CR-804). It does not cover the
// implicit lock of non-recurring and endless subscriptions, which have no
// renewal at all; Ability handles those.
func (w *World) AutoRenewLockedFor(s *Subscription) bool {
	if s == nil {
		return false
	}
	if s.AutoRenewLocked {
		return true
	}
	if p, ok := w.Plan(s.PlanID); ok && p.AutoRenewLocked {
		return true
	}
	resellerID := s.ResellerID
	if resellerID == 0 {
		if t, ok := w.Tenant(s.TenantID); ok {
			resellerID = t.ResellerID
		}
	}
	if r, ok := w.Reseller(resellerID); ok && r.AutoRenewLocked {
		return true
	}
	return false
}

// find returns a pointer to the element of xs with the id, so that callers
// change the world in place. Ids are handed out in increasing order and
// entities appended as they are made, so each slice is sorted by id and a
// binary search finds the element: a sandbox that has renewed for months
// holds many thousands of orders. Should a slice ever be out of order, the
// search misses and a scan still finds the element.
func find[T any](xs []T, id int64, idOf func(*T) int64) (*T, bool) {
	i := sort.Search(len(xs), func(i int) bool { return idOf(&xs[i]) >= id })
	if i < len(xs) && idOf(&xs[i]) == id {
		return &xs[i], true
	}
	for i := range xs {
		if idOf(&xs[i]) == id {
			return &xs[i], true
		}
	}
	return nil, false
}

// Tenant returns the tenant with the id, pointing into w.Tenants.
func (w *World) Tenant(id int64) (*Tenant, bool) {
	return find(w.Tenants, id, func(t *Tenant) int64 { return t.ID })
}

// Reseller returns the reseller with the id, pointing into w.Resellers.
func (w *World) Reseller(id int64) (*Reseller, bool) {
	return find(w.Resellers, id, func(r *Reseller) int64 { return r.ID })
}

// Distributor returns the distributor with the id, pointing into
// w.Distributors.
func (w *World) Distributor(id int64) (*Distributor, bool) {
	return find(w.Distributors, id, func(d *Distributor) int64 { return d.ID })
}

// Plan returns the plan with the id, pointing into w.Plans.
func (w *World) Plan(id int64) (*Plan, bool) {
	return find(w.Plans, id, func(p *Plan) int64 { return p.ID })
}

// ServiceTerm returns the service term with the id, pointing into
// w.ServiceTerms.
func (w *World) ServiceTerm(id int64) (*ServiceTerm, bool) {
	return find(w.ServiceTerms, id, func(t *ServiceTerm) int64 { return t.ID })
}

// Subscription returns the subscription with the id, pointing into
// w.Subscriptions.
func (w *World) Subscription(id int64) (*Subscription, bool) {
	return find(w.Subscriptions, id, func(s *Subscription) int64 { return s.ID })
}

// Order returns the order with the id, pointing into w.Orders.
func (w *World) Order(id int64) (*Order, bool) {
	return find(w.Orders, id, func(o *Order) int64 { return o.ID })
}

// User returns the user with the id, pointing into w.Users.
func (w *World) User(id int64) (*User, bool) {
	return find(w.Users, id, func(u *User) int64 { return u.ID })
}

// Period returns the plan's period with the id, pointing into p.Periods.
func (p *Plan) Period(id int64) (*Period, bool) {
	return find(p.Periods, id, func(x *Period) int64 { return x.ID })
}

// Resource returns the plan's resource with the key, pointing into
// p.Resources. Resources are addressed by key because that is what the
// vendor sees and what orders carry.
func (p *Plan) Resource(key string) (*Resource, bool) {
	for i := range p.Resources {
		if p.Resources[i].Key == key {
			return &p.Resources[i], true
		}
	}
	return nil, false
}

// DefaultPeriod is the period an order gets when it names none: the first
// paid one, because a trial must be chosen on purpose. It is nil when the
// plan has only trial periods.
func (p *Plan) DefaultPeriod() *Period {
	for i := range p.Periods {
		if !p.Periods[i].Trial {
			return &p.Periods[i]
		}
	}
	return nil
}

// AddPeriod returns t plus the duration of p. Months and years use
// time.AddDate, so they follow the calendar and normalise like it (January
// 31 plus one month is March 3 or 2), as an expiration computed by any Go
// vendor would. The unit is matched without regard to case because Vendor
// Portal spells it "Month". An unknown unit adds nothing. AddPeriod does not
// look at Endless: an endless period has no expiration, and the caller must
// not ask for one.
func AddPeriod(t time.Time, p Period) time.Time {
	switch strings.ToLower(p.Type) {
	case PeriodDay:
		return t.AddDate(0, 0, p.Value)
	case PeriodMonth:
		return t.AddDate(0, p.Value, 0)
	case PeriodYear:
		return t.AddDate(p.Value, 0, 0)
	}
	return t
}

// invisibleNames names the invisible characters people most often paste
// into an e-mail address without seeing them.
var invisibleNames = map[rune]string{
	'\u0009': "CHARACTER TABULATION",
	'\u0020': "SPACE",
	'\u00A0': "NO-BREAK SPACE",
	'\u00AD': "SOFT HYPHEN",
	'\u2007': "FIGURE SPACE",
	'\u200B': "ZERO WIDTH SPACE",
	'\u200C': "ZERO WIDTH NON-JOINER",
	'\u200D': "ZERO WIDTH JOINER",
	'\u2060': "WORD JOINER",
	'\u202F': "NARROW NO-BREAK SPACE",
	'\uFEFF': "ZERO WIDTH NO-BREAK SPACE",
}

// invisible reports characters that do not show: controls (Cc), format
// characters (Cf, which hold the zero-width space, U+FEFF and the soft
// hyphen), and every space (Zs, which holds the no-break spaces), line and
// paragraph separator.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zs, unicode.Zl, unicode.Zp)
}

// ValidateEmail accepts a plain e-mail address: local@domain, ASCII only,
// with no invisible character anywhere. Release 7.6 (CR-2189) added the
// check for invisible characters because an address with a zero-width
// space pasted in looks right and never receives mail; the error says which
// character and where, counting characters from 1, since the user cannot
// see it.
func ValidateEmail(s string) error {
	if s == "" {
		return Errorf(CodeInvalidArgument, "e-mail address is empty")
	}
	if !utf8.ValidString(s) {
		return Errorf(CodeInvalidArgument, "e-mail address %q is not valid UTF-8", s)
	}
	pos := 0
	for _, r := range s {
		pos++
		if invisible(r) {
			name := invisibleNames[r]
			if name != "" {
				name = " (" + name + ")"
			}
			return Errorf(CodeInvalidArgument, "e-mail address %q contains invisible character U+%04X%s at position %d", s, r, name, pos)
		}
	}
	if len(s) > 254 {
		return Errorf(CodeInvalidArgument, "e-mail address is %d bytes long; at most 254 are allowed", len(s))
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return Errorf(CodeInvalidArgument, "e-mail address %q has no @", s)
	}
	local, domain := s[:at], s[at+1:]
	if err := validLocal(local); err != nil {
		return Errorf(CodeInvalidArgument, "e-mail address %q: %v", s, err)
	}
	if err := validDomain(domain); err != nil {
		return Errorf(CodeInvalidArgument, "e-mail address %q: %v", s, err)
	}
	return nil
}

// atext are the characters RFC 5322 allows in an unquoted local part
// besides letters and digits.
const atext = "!#$%&'*+-/=?^_`{|}~"

func validLocal(local string) error {
	switch {
	case local == "":
		return fmt.Errorf("nothing before the @")
	case len(local) > 64:
		return fmt.Errorf("the part before the @ is %d bytes long; at most 64 are allowed", len(local))
	case local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, ".."):
		return fmt.Errorf("the part before the @ has a misplaced dot")
	}
	for i, r := range local {
		if !isAlnum(r) && r != '.' && !strings.ContainsRune(atext, r) {
			return fmt.Errorf("character %q at position %d is not allowed before the @", r, utf8.RuneCountInString(local[:i])+1)
		}
	}
	return nil
}

func validDomain(domain string) error {
	if domain == "" {
		return fmt.Errorf("nothing after the @")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return fmt.Errorf("domain %q has no dot", domain)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("domain %q has an empty or over-long label", domain)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("domain label %q starts or ends with a hyphen", l)
		}
		for _, r := range l {
			if !isAlnum(r) && r != '-' {
				return fmt.Errorf("character %q is not allowed in domain %q", r, domain)
			}
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}
