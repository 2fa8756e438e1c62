package world

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// idBase is the first id Generate hands out. Four-digit ids look like the
// platform's and make a small hand-written id in a test (1, 2, 3) stand out
// as "not from the world".
const idBase = 1000

// NewID hands out the next id of the world. Ids are global to a world, not
// per entity kind, so that mixing up a subscription id and an order id in a
// test fails loudly instead of finding the wrong entity.
func (w *World) NewID() int64 {
	w.NextID++
	return w.NextID
}

// Generate builds a realistic seeded installation as it looks at now: a
// vendor product, distributors, resellers, tenants with their users,
// service terms, a plan catalogue and existing subscriptions in every stable
// status with their orders.
//
// The same seed and the same now give a deep-equal world and byte-identical
// JSON, because the sandbox's scenarios and recordings are replayed from the
// seed: generation draws from one seeded faker (see fake.go) in a fixed
// order and never iterates a map. Callers pass a non-zero seed: to
// gofakeit 0 meant "random", and the platform replaces a workspace's 0 with
// its default seed before it gets here.
//
// now is normalised to UTC and whole seconds so that dates marshal the same
// whatever location or monotonic reading the caller's clock carries.
func Generate(seed int64, now time.Time) *World {
	now = now.UTC().Truncate(time.Second)
	g := &generator{
		f:   newFaker(seed),
		now: now,
		w: &World{
			Seed:          seed,
			Distributors:  []Distributor{},
			Resellers:     []Reseller{},
			Tenants:       []Tenant{},
			Users:         []User{},
			ServiceTerms:  []ServiceTerm{},
			Plans:         []Plan{},
			Subscriptions: []Subscription{},
			Orders:        []Order{},
			NextID:        idBase - 1,
		},
		emails: map[string]bool{},
	}
	g.w.APGUID = g.f.uuid()
	g.product()
	g.channel()
	g.tenants()
	g.serviceTerms()
	g.catalogue()
	g.subscriptions()
	w := g.w
	slices.SortFunc(w.Distributors, func(a, b Distributor) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(w.Resellers, func(a, b Reseller) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(w.Tenants, func(a, b Tenant) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(w.Users, func(a, b User) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(w.ServiceTerms, func(a, b ServiceTerm) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(w.Plans, func(a, b Plan) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(w.Subscriptions, func(a, b Subscription) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(w.Orders, func(a, b Order) int { return cmp.Compare(a.ID, b.ID) })
	w.RefreshAbilities()
	return w
}

// generator carries the faker and the world under construction. Every draw
// goes through f in program order; that order is part of the seed's
// meaning, so reordering draws changes every generated world.
type generator struct {
	f   *faker
	w   *World
	now time.Time
	// emails makes user logins unique across the installation, as the
	// platform requires; it is only ever probed, never iterated.
	emails map[string]bool
	// vendorSKU is the vendor's SKU prefix, derived from its name.
	vendorSKU string
}

// city is a place customers live in, with the shapes of its postcodes and
// phone numbers, so that an address does not put a Texan zip code in Berlin.
type city struct {
	name   string
	region string
	zip    string // # digit, ? letter
	area   string // phone area code
}

// locale is a country resellers and customers are in. Country codes are
// ISO 3166-1 alpha-2 and currencies ISO 4217, as the vendor payload
// documents; every currency here has two decimals, because Money counts
// cents.
type locale struct {
	country  string
	currency string
	dial     string // international calling code
	local    string // subscriber number after the area code
	suffix   string // legal form of a company
	tld      string
	cities   []city
}

var locales = []locale{
	{"US", "USD", "1", "### ####", "Inc.", "com", []city{
		{"Austin", "TX", "787##", "512"},
		{"Denver", "CO", "802##", "303"},
		{"Seattle", "WA", "981##", "206"},
		{"Columbus", "OH", "432##", "614"},
	}},
	{"CA", "CAD", "1", "### ####", "Ltd.", "ca", []city{
		{"Toronto", "ON", "M5V #?#", "416"},
		{"Vancouver", "BC", "V6B #?#", "604"},
		{"Calgary", "AB", "T2P #?#", "403"},
	}},
	{"DE", "EUR", "49", "#######", "GmbH", "de", []city{
		{"Berlin", "Berlin", "10###", "30"},
		{"Munich", "Bavaria", "80###", "89"},
		{"Hamburg", "Hamburg", "20###", "40"},
	}},
	{"NL", "EUR", "31", "### ####", "B.V.", "nl", []city{
		{"Amsterdam", "North Holland", "10## ??", "20"},
		{"Utrecht", "Utrecht", "35## ??", "30"},
	}},
	{"GB", "GBP", "44", "#### ####", "Ltd", "co.uk", []city{
		{"Manchester", "Greater Manchester", "M# #??", "161"},
		{"Leeds", "West Yorkshire", "LS# #??", "113"},
		{"Bristol", "Bristol", "BS# #??", "117"},
	}},
	{"PL", "PLN", "48", "### ## ##", "Sp. z o.o.", "pl", []city{
		{"Warsaw", "Masovia", "00-###", "22"},
		{"Krakow", "Lesser Poland", "30-###", "12"},
	}},
	{"SE", "SEK", "46", "### ## ##", "AB", "se", []city{
		{"Stockholm", "Stockholm", "11# ##", "8"},
		{"Gothenburg", "Vastra Gotaland", "41# ##", "31"},
	}},
}

func localeOf(country string) locale {
	for _, l := range locales {
		if l.country == country {
			return l
		}
	}
	panic("world: no locale " + country)
}

// distributorSpecs are the two distribution regions; resellers sit in the
// countries of their distributor.
var distributorSpecs = []struct {
	region    string
	currency  string
	countries []string
}{
	{"North America", "USD", []string{"US", "CA"}},
	{"Europe", "EUR", []string{"DE", "NL", "GB", "PL", "SE"}},
}

// address is one postal address with a phone number in international
// format, all of the same place.
type address struct {
	street, city, region, zip, country, phone string
	// at is the city, for more phone numbers of the same place.
	at city
}

func (g *generator) address(l locale) address {
	c := l.cities[g.f.number(0, len(l.cities)-1)]
	zip := strings.ToUpper(g.f.lexify(g.f.numerify(c.zip)))
	return address{
		street:  g.f.street(),
		city:    c.name,
		region:  c.region,
		zip:     zip,
		country: l.country,
		phone:   g.phone(l, c),
		at:      c,
	}
}

// phone is "+<country code> <area> <number>", the international format the
// vendor payload documents.
func (g *generator) phone(l locale, c city) string {
	return "+" + l.dial + " " + c.area + " " + g.f.numerify(l.local)
}

// slug reduces s to lower-case ASCII letters and digits, so that names like
// "O'Keefe" still make plain e-mail addresses and domains (CR-2189 forbids
// anything invisible, and gofakeit's data is not all ASCII).
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// email makes a unique login first.last@domain; a clash gets a number.
func (g *generator) email(first, last, domain string) string {
	local := slug(first) + "." + slug(last)
	e := local + "@" + domain
	for n := 2; g.emails[e]; n++ {
		e = fmt.Sprintf("%s%d@%s", local, n, domain)
	}
	g.emails[e] = true
	return e
}

func (g *generator) product() {
	vendor := g.f.lastName()
	g.vendorSKU = strings.ToUpper(slug(vendor) + "XXXX")[:4]
	g.w.Product = Product{
		ID:     g.w.NewID(),
		Name:   g.f.oneOf([]string{"Cloud Workplace", "Workspace Hub", "Collaboration Suite", "Business Cloud"}),
		Vendor: vendor + " Software Inc.",
	}
}

// channel makes the distributors and their resellers.
func (g *generator) channel() {
	brands := []string{"Cloud", "IT", "Systems", "Digital", "Networks", "Solutions", "Tech", "Data"}
	for _, spec := range distributorSpecs {
		d := Distributor{
			ID:       g.w.NewID(),
			Name:     g.f.lastName() + " " + g.f.oneOf([]string{"Distribution", "Cloud Distribution", "Channel Partners", "Technology Distribution"}),
			Region:   spec.region,
			Currency: spec.currency,
			Attributes: map[string]string{
				"certificate_password": g.f.password(16),
			},
		}
		g.w.Distributors = append(g.w.Distributors, d)
		n := g.f.number(2, 3)
		for i := range n {
			l := localeOf(spec.countries[i%len(spec.countries)])
			brand := g.f.lastName() + " " + g.f.oneOf(brands)
			domain := slug(brand) + "." + l.tld
			a := g.address(l)
			r := Reseller{
				ID:            g.w.NewID(),
				DistributorID: d.ID,
				Name:          brand,
				CompanyName:   brand + " " + l.suffix,
				FirstAddress:  a.street,
				SecondAddress: g.f.oneOf([]string{"", "Floor " + g.f.numerify("#"), "Suite " + g.f.numerify("##0")}),
				City:          a.city,
				Region:        a.region,
				Zip:           a.zip,
				Country:       a.country,
				CompanyPhone:  a.phone,
				CompanyEmail:  "sales@" + domain,
				Currency:      l.currency,
				Attributes: map[string]string{
					"reseller_public_id": strings.ToUpper(g.f.letters(3)) + "-" + g.f.digits(6),
				},
				CoreAttributes: map[string]string{
					"partner_tier": g.f.oneOf([]string{"registered", "silver", "gold", "platinum"}),
					"crm_id":       "0015" + g.f.digits(11),
				},
			}
			g.w.Resellers = append(g.w.Resellers, r)
		}
	}
	// At least one reseller forbids its customers to change auto-renew
	// (CR-804), so that the lock is always exercised.
	g.w.Resellers[g.f.number(0, len(g.w.Resellers)-1)].AutoRenewLocked = true
}

// tenantCount is how many customer accounts Generate makes.
const tenantCount = 8

// tenants makes the customer accounts and their users. A Personal tenant
// has an empty company_name: the vendor payload defines company_name as
// "the company name, if the customer is a legal entity", so a private person
// has none; the person's name is in contact and owner.
func (g *generator) tenants() {
	industries := []string{"Logistics", "Dental", "Architects", "Bakery", "Consulting", "Engineering", "Legal", "Media", "Design", "Clinic"}
	personalDomains := []string{"example.com", "example.net", "example.org"}
	for i := range tenantCount {
		rs := g.w.Resellers[i%len(g.w.Resellers)]
		l := localeOf(rs.Country)
		personal := i%3 == 2
		a := g.address(l)
		ownerFirst, ownerLast := g.f.firstName(), g.f.lastName()
		t := Tenant{
			ID:         g.w.NewID(),
			ResellerID: rs.ID,
			Owner: Owner{
				FirstName: ownerFirst,
				LastName:  ownerLast,
				Phone:     g.phone(l, a.at),
			},
		}
		var domain string
		contactFirst, contactLast := ownerFirst, ownerLast
		if personal {
			t.Type = TenantPersonal
			domain = g.f.oneOf(personalDomains)
			t.Contact = Contact{
				AddressLine2: g.f.oneOf([]string{"", "Apt " + g.f.numerify("##")}),
				Phone:        t.Owner.Phone,
			}
		} else {
			t.Type = TenantBusiness
			t.CompanyName = g.f.lastName() + " " + g.f.oneOf(industries) + " " + l.suffix
			domain = slug(strings.TrimSuffix(t.CompanyName, " "+l.suffix)) + "." + l.tld
			if g.f.coin() {
				// The contact is often an office manager, not the owner.
				contactFirst, contactLast = g.f.firstName(), g.f.lastName()
			}
			t.Contact = Contact{
				AddressLine2: g.f.oneOf([]string{"", "Suite " + g.f.numerify("##0"), "Floor " + g.f.numerify("#")}),
				Phone:        a.phone,
				Fax:          g.phone(l, a.at),
			}
		}
		ownerEmail := g.email(ownerFirst, ownerLast, domain)
		contactEmail := ownerEmail
		if contactFirst != ownerFirst || contactLast != ownerLast {
			contactEmail = g.email(contactFirst, contactLast, domain)
		}
		t.Contact.FirstName, t.Contact.LastName = contactFirst, contactLast
		t.Contact.Zip, t.Contact.City, t.Contact.State, t.Contact.Country = a.zip, a.city, a.region, a.country
		t.Contact.Email = contactEmail
		t.Contact.AddressLine1 = a.street
		g.w.Tenants = append(g.w.Tenants, t)

		g.w.Users = append(g.w.Users, User{
			ID: g.w.NewID(), TenantID: t.ID, Email: ownerEmail,
			FirstName: ownerFirst, LastName: ownerLast, Role: RoleOwner, Status: UserActive,
		})
		others := []string{RoleAdmin, RoleFinanceManager, RoleUser}
		for range g.f.number(0, 3) {
			first, last := g.f.firstName(), g.f.lastName()
			g.w.Users = append(g.w.Users, User{
				ID: g.w.NewID(), TenantID: t.ID, Email: g.email(first, last, domain),
				FirstName: first, LastName: last, Role: g.f.oneOf(others), Status: UserActive,
			})
		}
	}
}

// serviceTerms makes three terms with billing days in separate thirds of
// the month, so that tests can tell them apart; the last one stops and
// deletes only by manual approval.
func (g *generator) serviceTerms() {
	g.w.ServiceTerms = append(g.w.ServiceTerms,
		ServiceTerm{
			ID: g.w.NewID(), Name: "Monthly self-service", BillingDay: g.f.number(1, 9),
			ManualRenewPoint: 30, AutoRenewPoint: 7, GracePeriod: 7, StopPeriod: 30,
			StopType: TermAutomatic, DeleteType: TermAutomatic,
		},
		ServiceTerm{
			ID: g.w.NewID(), Name: "Annual commitment", BillingDay: g.f.number(10, 19),
			ManualRenewPoint: -1, AutoRenewPoint: 30, GracePeriod: 14, StopPeriod: 60,
			StopType: TermAutomatic, DeleteType: TermManual,
		},
		ServiceTerm{
			ID: g.w.NewID(), Name: "Managed accounts", BillingDay: g.f.number(20, 28),
			ManualRenewPoint: 14, AutoRenewPoint: 3, GracePeriod: 3, StopPeriod: 14,
			StopType: TermManual, DeleteType: TermManual,
		},
	)
}

// Plan indexes into the catalogue, in the order catalogue builds it.
const (
	planEnterpriseStarter = iota // monthly
	planEssentialsPlus           // yearly
	planFrontlineStarter         // trial + monthly + yearly
	planFrontlineStandard        // monthly, auto-renew locked
	planEduStandard              // yearly
	planEduPlus                  // yearly
	planTeachingLearning         // yearly
	planPerpetual                // endless
	planMigration                // non-recurring
	planCompute                  // pay as you go
)

func month(price, renewal Money) Period {
	return Period{Value: 1, Type: PeriodMonth, Price: price, RenewalPrice: renewal}
}

func year(price, renewal Money) Period {
	return Period{Value: 1, Type: PeriodYear, Price: price, RenewalPrice: renewal}
}

func res(key, name, unit string, included, minQ, maxQ int64, price Money) Resource {
	return Resource{Key: key, Name: name, Unit: unit, Included: included, Min: minQ, Max: maxQ, UnitPrice: price}
}

// catalogue makes the plans. Prices are USD cents; the Google Workspace
// editions use the SKU ids of release 7.6 (CR-2245), the vendor's own plans
// SKUs in the vendor style of the payload example ("KLMN1234OMG"). The
// perpetual plan's core price times its limit passes 2^31, which is why
// Money is 64-bit (CR-2063).
func (g *generator) catalogue() {
	termMonthly, termAnnual, termManaged := g.w.ServiceTerms[0].ID, g.w.ServiceTerms[1].ID, g.w.ServiceTerms[2].ID
	prod := g.w.Product.Name
	plans := []Plan{
		{
			Name: "Google Workspace Enterprise Starter", SKU: "1010020029", BillingType: BillingRecurring,
			Description:   "Professional e-mail, 1 TB pooled storage per user, Meet with recording.",
			ServiceTermID: termMonthly,
			Periods:       []Period{month(700, 700)},
			Resources: []Resource{
				res("user_licenses", "User licenses", "license", 1, 1, 300, 700),
				res("storage_gb", "Additional pooled storage", "GB", 1024, 1024, 0, 5),
			},
		},
		{
			Name: "Google Workspace Essentials Plus", SKU: "1010060005", BillingType: BillingRecurring,
			Description:   "Meet, Chat, Drive and Docs for teams that keep their own e-mail.",
			ServiceTermID: termAnnual,
			Periods:       []Period{year(10800, 10200)},
			Resources: []Resource{
				res("user_licenses", "User licenses", "license", 1, 1, 1000, 10800),
				res("storage_gb", "Additional pooled storage", "GB", 100, 100, 0, 60),
			},
		},
		{
			Name: "Google Workspace Frontline Starter", SKU: "1010020030", BillingType: BillingRecurring,
			Description:   "Workspace for frontline workers; try it free for 30 days.",
			ServiceTermID: termMonthly,
			Periods: []Period{
				{Value: 30, Type: PeriodDay, Trial: true},
				month(200, 200),
				year(2400, 2200),
			},
			Resources: []Resource{
				res("user_licenses", "User licenses", "license", 1, 1, 500, 200),
				res("storage_gb", "Additional storage", "GB", 5, 5, 0, 10),
			},
		},
		{
			Name: "Google Workspace Frontline Standard", SKU: "1010020031", BillingType: BillingRecurring,
			Description:   "Frontline Starter plus security and management controls.",
			ServiceTermID: termManaged, SetupFee: 2500, AutoRenewLocked: true,
			Periods: []Period{month(500, 500)},
			Resources: []Resource{
				res("user_licenses", "User licenses", "license", 1, 1, 500, 500),
				res("shared_drives", "Shared drives", "drive", 1, 1, 50, 150),
			},
		},
		{
			Name: "Google Workspace for Education Standard", SKU: "1010310005", BillingType: BillingRecurring,
			Description:   "Security and analytics tools for schools; priced per student per year.",
			ServiceTermID: termAnnual,
			Periods:       []Period{year(30000, 30000)},
			Resources: []Resource{
				res("student_licenses", "Student licenses", "license", 100, 100, 100000, 300),
				res("staff_licenses", "Staff licenses", "license", 0, 0, 5000, 300),
			},
		},
		{
			Name: "Google Workspace for Education Plus", SKU: "1010310008", BillingType: BillingRecurring,
			Description:   "The complete Education edition; priced per student per year.",
			ServiceTermID: termAnnual,
			Periods:       []Period{year(50000, 50000)},
			Resources: []Resource{
				res("student_licenses", "Student licenses", "license", 100, 100, 200000, 500),
				res("staff_licenses", "Staff licenses", "license", 25, 25, 50000, 500),
			},
		},
		{
			Name: "Google Workspace for Education: Teaching and Learning Upgrade", SKU: "1010370001", BillingType: BillingRecurring,
			Description:   "Premium teaching tools for educators; priced per staff license per year.",
			ServiceTermID: termAnnual,
			Periods:       []Period{year(0, 0)},
			Resources: []Resource{
				res("staff_licenses", "Staff licenses", "license", 0, 1, 10000, 4800),
			},
		},
		{
			Name: prod + " Archive Server Perpetual License", SKU: g.sku("PRP"), BillingType: BillingRecurring,
			Description:   "On-premises archive server, licensed per CPU core for ever.",
			ServiceTermID: termAnnual, SetupFee: 250_000,
			// Endless: no duration, so value 0 (the vendor doc allows it).
			Periods: []Period{{Value: 0, Type: PeriodYear, Endless: true, Price: 1_500_000}},
			Resources: []Resource{
				res("cpu_cores", "CPU cores", "core", 2, 2, 4096, 1_200_000),
				res("storage_tb", "Archive storage", "TB", 1, 1, 0, 150_000),
			},
		},
		{
			// Non-recurring (CR-772): period and resource fees are forced
			// to 0 and included amounts to 0; only the setup fee is paid.
			Name: prod + " Tenant Migration (one-time)", SKU: g.sku("OTM"), BillingType: BillingNonRecurring,
			Description:   "One-time migration of mailboxes and files into the new tenant.",
			ServiceTermID: termManaged, SetupFee: 499_900,
			Periods: []Period{year(0, 0)},
			Resources: []Resource{
				res("mailboxes", "Mailboxes to migrate", "mailbox", 0, 1, 10000, 0),
				res("data_tb", "Data to migrate", "TB", 0, 0, 500, 0),
			},
		},
		{
			Name: prod + " Compute (pay as you go)", SKU: g.sku("PAYG"), BillingType: BillingPayAsYouGo,
			Description:   "Virtual machines billed monthly for what was consumed.",
			ServiceTermID: termMonthly,
			Periods:       []Period{month(0, 0)},
			Resources: []Resource{
				res("vcpu_hours", "vCPU hours", "hour", 0, 0, 0, 4),
				res("storage_gb_months", "Block storage", "GB-month", 0, 0, 0, 10),
				res("egress_gb", "Outbound traffic", "GB", 0, 0, 0, 9),
			},
		},
	}
	for _, p := range plans {
		p.ID = g.w.NewID()
		p.Currency = "USD"
		p.Attributes = map[string]string{}
		for i := range p.Periods {
			p.Periods[i].ID = g.w.NewID()
		}
		for i := range p.Resources {
			p.Resources[i].ID = g.w.NewID()
		}
		g.w.Plans = append(g.w.Plans, p)
	}
}

// sku is a vendor-style SKU: vendor prefix, four digits, a product code.
func (g *generator) sku(code string) string {
	return g.vendorSKU + g.f.digits(4) + code
}

// subSpec describes one existing subscription.
type subSpec struct {
	plan      int
	period    int // index into the plan's periods
	status    Status
	renewals  int // completed renewals before now
	autoRenew bool
	locked    bool // reseller's lock on this subscription
	big       bool // a quantity whose price passes 2^31
}

// subSpecs cover every stable status the vendor can have seen, plus one
// renewal that failed, so that retry has something to resend.
var subSpecs = []subSpec{
	{plan: planEnterpriseStarter, status: StatusActive, renewals: 1, autoRenew: true},
	{plan: planFrontlineStarter, period: 0, status: StatusActive}, // trial
	{plan: planFrontlineStarter, period: 1, status: StatusActive, autoRenew: true},
	{plan: planEssentialsPlus, status: StatusActive, renewals: 1, autoRenew: true},
	{plan: planFrontlineStandard, status: StatusActive, autoRenew: true},
	{plan: planPerpetual, status: StatusActive, big: true},
	{plan: planCompute, status: StatusActive, autoRenew: true},
	{plan: planTeachingLearning, status: StatusActive, locked: true},
	{plan: planMigration, status: StatusDelivered},
	{plan: planEnterpriseStarter, status: StatusGraced},
	{plan: planEduStandard, status: StatusStopped},
	{plan: planEduPlus, status: StatusDeleted},
	{plan: planEssentialsPlus, status: StatusRenewingFailed, autoRenew: true},
}

// renewalError is what the vendor answered to the failed renewal.
const renewalError = "Customer domain ownership is not verified; renewal rejected"

// orderLead is how long before provisioning a generated order was placed.
const orderLead = 3 * time.Minute

func (g *generator) subscriptions() {
	// Tenants take subscriptions in a seeded order, so that which customer
	// has the failed renewal changes with the seed.
	order := make([]int, len(g.w.Tenants))
	for i := range order {
		order[i] = i
	}
	for i := len(order) - 1; i > 0; i-- {
		j := g.f.number(0, i)
		order[i], order[j] = order[j], order[i]
	}
	for i, spec := range subSpecs {
		g.subscription(spec, g.w.Tenants[order[i%len(order)]])
	}
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// shortest is the fewest days p can last, used to aim start dates near the
// window a status needs; pickStart then finds one inside it.
func shortest(p Period) int {
	switch p.Type {
	case PeriodMonth:
		return 28 * p.Value
	case PeriodYear:
		return 365 * p.Value
	}
	return p.Value
}

// pickStart returns the first start date, scanning day by day back from
// skip days before now, for which ok holds, wrapping round to now if the
// scan runs out. Scanning instead of subtracting a period keeps month-end
// normalisation (Jan 31 + 1 month = Mar 3) from pushing an expiration out
// of the window its status needs.
func (g *generator) pickStart(skip int, ok func(start time.Time) bool) time.Time {
	const limit = 4000
	for d := range limit {
		start := g.now.AddDate(0, 0, -((skip + d) % limit))
		if ok(start) {
			return start
		}
	}
	panic("world: no start date fits a generated subscription")
}

// after applies p n times from t.
func after(t time.Time, p Period, n int) time.Time {
	for range n {
		t = AddPeriod(t, p)
	}
	return t
}

func (g *generator) subscription(spec subSpec, t Tenant) {
	w, now := g.w, g.now
	plan := &w.Plans[spec.plan]
	period := plan.Periods[spec.period]
	term, _ := w.ServiceTerm(plan.ServiceTermID)
	endless := period.Endless || plan.BillingType == BillingNonRecurring
	length := shortest(period)

	s := Subscription{
		ID:              w.NewID(),
		Name:            plan.Name,
		TenantID:        t.ID,
		ResellerID:      t.ResellerID,
		PlanID:          plan.ID,
		PeriodID:        period.ID,
		Status:          spec.status,
		Trial:           period.Trial,
		AutoRenew:       spec.autoRenew,
		AutoRenewLocked: spec.locked,
		ExternalID:      g.f.uuid(),
		Resources:       map[string]int64{},
		Attributes:      map[string]string{},
		OrderAttributes: map[string]string{},
	}
	for _, r := range plan.Resources {
		s.Resources[r.Key] = g.quantity(r, period.Trial || plan.BillingType == BillingPayAsYouGo)
	}
	if spec.big {
		s.Resources["cpu_cores"] = int64(g.f.number(1900, 2100))
	}

	var start, exp time.Time
	grace, stop, arp := days(term.GracePeriod), days(term.StopPeriod), days(term.AutoRenewPoint)
	switch {
	case endless:
		start = now.AddDate(0, 0, -g.f.number(20, 400))
	case spec.status == StatusActive:
		n := spec.renewals
		start = g.pickStart(n*(length+3)+g.f.number(1, length-4), func(st time.Time) bool {
			return after(st, period, n).Before(now) && after(st, period, n+1).After(now)
		})
	case spec.status == StatusGraced:
		start = g.pickStart(length+g.f.number(1, term.GracePeriod-1), func(st time.Time) bool {
			e := AddPeriod(st, period)
			return e.Before(now) && e.Add(grace).After(now)
		})
	case spec.status == StatusStopped:
		start = g.pickStart(length+term.GracePeriod+g.f.number(1, term.StopPeriod-1), func(st time.Time) bool {
			e := AddPeriod(st, period)
			return e.Add(grace).Before(now) && e.Add(grace+stop).After(now)
		})
	case spec.status == StatusDeleted:
		start = g.pickStart(length+3+term.GracePeriod+term.StopPeriod+g.f.number(10, 200), func(st time.Time) bool {
			return AddPeriod(st, period).Add(grace + stop).Before(now)
		})
	case spec.status == StatusRenewingFailed:
		start = g.pickStart(length-g.f.number(1, term.AutoRenewPoint-1), func(st time.Time) bool {
			e := AddPeriod(st, period)
			return e.After(now) && e.Add(-arp).Before(now.Add(-time.Hour)) && !e.Add(-arp).Before(st)
		})
	default:
		panic("world: no dates for generated status " + string(spec.status))
	}
	s.StartDate = start
	s.CreatedAt = start.Add(-orderLead)
	s.UpdatedAt = start
	if !endless {
		exp = after(start, period, spec.renewals+1)
		s.ExpirationDate = &exp
	}

	g.order(s, OrderSales, OrderCompleted, s.CreatedAt, salesTotal(plan, period, s.Resources), "")
	for i := range spec.renewals {
		// Renewed at the auto-renew point before the period ended.
		at := after(start, period, i+1).Add(-arp)
		at = maxTime(at, start)
		o := g.order(s, OrderRenewal, OrderCompleted, at, renewalTotal(plan, period, s.Resources), "")
		s.UpdatedAt = o.UpdatedAt
	}
	switch s.Status {
	case StatusGraced:
		s.UpdatedAt = exp
	case StatusStopped:
		s.UpdatedAt = exp.Add(grace)
	case StatusDeleted:
		s.UpdatedAt = exp.Add(grace + stop)
	case StatusRenewingFailed:
		o := g.order(s, OrderRenewal, OrderProvisioningFailed, exp.Add(-arp), renewalTotal(plan, period, s.Resources), renewalError)
		s.LastError = renewalError
		s.Pending = &Operation{
			Kind: OpRenew, OrderID: o.ID, PlanID: plan.ID, PeriodID: period.ID,
			Resources: cloneMap(s.Resources), PrevStatus: StatusActive,
		}
		s.UpdatedAt = o.UpdatedAt
	}
	w.Subscriptions = append(w.Subscriptions, s)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// quantity draws an ordered amount within the resource's limits. Trial and
// pay-as-you-go subscriptions take the default amount: a trial cannot
// upgrade, and pay-as-you-go consumption is pulled, not ordered.
func (g *generator) quantity(r Resource, least bool) int64 {
	lo := max(r.Min, r.Included)
	if least {
		return lo
	}
	hi := lo + max(20, 2*lo)
	if r.Max > 0 {
		hi = min(hi, r.Max)
	}
	if hi <= lo {
		return lo
	}
	return lo + int64(g.f.number(0, int(hi-lo)))
}

// order records a generated order placed at at and done two minutes later
// (a sales order is done when the subscription starts), and returns a copy.
func (g *generator) order(s Subscription, typ, status string, at time.Time, total Money, errMsg string) Order {
	plan, _ := g.w.Plan(s.PlanID)
	o := Order{
		ID:             g.w.NewID(),
		SubscriptionID: s.ID,
		TenantID:       s.TenantID,
		Type:           typ,
		Status:         status,
		PlanID:         s.PlanID,
		PeriodID:       s.PeriodID,
		Resources:      cloneMap(s.Resources),
		Total:          total,
		Currency:       plan.Currency,
		Error:          errMsg,
		CreatedAt:      at,
		UpdatedAt:      at.Add(2 * time.Minute),
	}
	if typ == OrderSales {
		o.UpdatedAt = s.StartDate
	}
	g.w.Orders = append(g.w.Orders, o)
	return o
}

// extras is the price of the resources ordered above their included
// amounts, exactly, in minor units.
func extras(plan *Plan, res map[string]int64) Money {
	var sum Money
	for _, r := range plan.Resources {
		if over := res[r.Key] - r.Included; over > 0 {
			sum += Money(over) * r.UnitPrice
		}
	}
	return sum
}

// salesTotal prices a sales order as the platform does: setup fee plus the
// period's recurring fee plus extra resources; a trial is free.
func salesTotal(plan *Plan, period Period, res map[string]int64) Money {
	if period.Trial {
		return 0
	}
	return plan.SetupFee + period.Price + extras(plan, res)
}

// renewalTotal prices a renewal order: the renewal fee (the recurring fee
// when no renewal fee is set) plus extra resources.
func renewalTotal(plan *Plan, period Period, res map[string]int64) Money {
	if period.Trial {
		return 0
	}
	price := period.RenewalPrice
	if price == 0 {
		price = period.Price
	}
	return price + extras(plan, res)
}
