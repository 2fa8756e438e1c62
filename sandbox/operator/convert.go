package operator

// Conversions between the domain types and the models generated from
// openapi.yaml, field by field. Slices and maps the document requires are
// never nil here, so a list with nothing in it is [] and not null.

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/operator/api"
	"github.com/apsandbox/apsandbox/sandbox/platform"
	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// each converts every element of in; the result is never nil.
func each[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func stringMap(m map[string]string) api.StringMap {
	out := make(api.StringMap, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func quantityMap(m map[string]int64) api.QuantityMap {
	out := make(api.QuantityMap, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// quantities is the domain form of an optional quantity map: nil when
// absent, which the platform reads as "the default quantities".
func quantities(m *api.QuantityMap) map[string]int64 {
	if m == nil {
		return nil
	}
	out := make(map[string]int64, len(*m))
	for k, v := range *m {
		out[k] = v
	}
	return out
}

func stringsOf(m *api.StringMap) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(*m))
	for k, v := range *m {
		out[k] = v
	}
	return out
}

// nonZero points at v unless it is the zero value, for fields the domain
// omits when empty.
func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func deref[T any](p *T) T {
	var v T
	if p != nil {
		v = *p
	}
	return v
}

// ---- workspaces ----

func toWorkspaceInfo(w platform.WorkspaceInfo) api.WorkspaceInfo {
	return api.WorkspaceInfo{
		Name:      w.Name,
		Seed:      w.Seed,
		ApGUID:    w.APGUID,
		VendorURL: w.VendorURL,
		Clock:     w.Clock,
		CreatedAt: w.CreatedAt,
		Counts: api.Counts{
			Distributors:  int64(w.Counts.Distributors),
			Resellers:     int64(w.Counts.Resellers),
			Tenants:       int64(w.Counts.Tenants),
			Users:         int64(w.Counts.Users),
			Plans:         int64(w.Counts.Plans),
			Subscriptions: int64(w.Counts.Subscriptions),
			Orders:        int64(w.Counts.Orders),
		},
	}
}

func fromCreateWorkspace(r api.CreateWorkspaceRequest) platform.CreateWorkspace {
	return platform.CreateWorkspace{Name: r.Name, Seed: deref(r.Seed), VendorURL: deref(r.VendorURL), APGUID: deref(r.ApGUID)}
}

// ---- the world ----

func toWorld(w *world.World) api.World {
	return api.World{
		ApGUID:        w.APGUID,
		Seed:          w.Seed,
		Product:       api.Product{ID: w.Product.ID, Name: w.Product.Name, Vendor: w.Product.Vendor},
		Distributors:  each(w.Distributors, toDistributor),
		Resellers:     each(w.Resellers, toReseller),
		Tenants:       each(w.Tenants, toTenant),
		Users:         each(w.Users, toUser),
		ServiceTerms:  each(w.ServiceTerms, toServiceTerm),
		Plans:         each(w.Plans, toPlan),
		Subscriptions: each(w.Subscriptions, toSubscription),
		Orders:        each(w.Orders, toOrder),
		NextID:        w.NextID,
	}
}

func toDistributor(d world.Distributor) api.Distributor {
	return api.Distributor{
		ID:         d.ID,
		Name:       d.Name,
		Region:     d.Region,
		Currency:   d.Currency,
		Attributes: stringMap(d.Attributes),
	}
}

func toReseller(r world.Reseller) api.Reseller {
	return api.Reseller{
		ID:              r.ID,
		DistributorID:   r.DistributorID,
		Name:            r.Name,
		CompanyName:     r.CompanyName,
		FirstAddress:    r.FirstAddress,
		SecondAddress:   r.SecondAddress,
		City:            r.City,
		Region:          r.Region,
		Zip:             r.Zip,
		Country:         r.Country,
		CompanyPhone:    r.CompanyPhone,
		CompanyEmail:    r.CompanyEmail,
		Currency:        r.Currency,
		Attributes:      stringMap(r.Attributes),
		CoreAttributes:  stringMap(r.CoreAttributes),
		AutoRenewLocked: r.AutoRenewLocked,
	}
}

func toTenant(t world.Tenant) api.Tenant {
	c := t.Contact
	return api.Tenant{
		ID:          t.ID,
		ResellerID:  t.ResellerID,
		CompanyName: t.CompanyName,
		Type:        api.TenantType(t.Type),
		Contact: api.Contact{
			FirstName:    c.FirstName,
			LastName:     c.LastName,
			Zip:          c.Zip,
			City:         c.City,
			State:        c.State,
			Country:      c.Country,
			Phone:        c.Phone,
			Email:        c.Email,
			Fax:          c.Fax,
			AddressLine1: c.AddressLine1,
			AddressLine2: c.AddressLine2,
		},
		Owner: api.Owner{FirstName: t.Owner.FirstName, LastName: t.Owner.LastName, Phone: t.Owner.Phone},
	}
}

func toUser(u world.User) api.User {
	return api.User{
		ID:             u.ID,
		TenantID:       u.TenantID,
		Email:          u.Email,
		FirstName:      u.FirstName,
		LastName:       u.LastName,
		Role:           api.UserRole(u.Role),
		Status:         api.UserStatus(u.Status),
		VendorID:       u.VendorID,
		LastError:      u.LastError,
		PasswordResets: u.PasswordResets,
	}
}

func toServiceTerm(t world.ServiceTerm) api.ServiceTerm {
	return api.ServiceTerm{
		ID:               t.ID,
		Name:             t.Name,
		BillingDay:       int64(t.BillingDay),
		ManualRenewPoint: int64(t.ManualRenewPoint),
		AutoRenewPoint:   int64(t.AutoRenewPoint),
		GracePeriod:      int64(t.GracePeriod),
		StopPeriod:       int64(t.StopPeriod),
		StopType:         api.ServiceTermStopType(t.StopType),
		DeleteType:       api.ServiceTermDeleteType(t.DeleteType),
	}
}

func toPeriod(p world.Period) api.Period {
	return api.Period{
		ID:           p.ID,
		Value:        int64(p.Value),
		Type:         api.PeriodType(p.Type),
		Trial:        p.Trial,
		Endless:      p.Endless,
		Price:        int64(p.Price),
		RenewalPrice: int64(p.RenewalPrice),
	}
}

func toResource(r world.Resource) api.Resource {
	return api.Resource{
		ID:        r.ID,
		Key:       r.Key,
		Name:      r.Name,
		Unit:      r.Unit,
		Included:  r.Included,
		Min:       r.Min,
		Max:       r.Max,
		UnitPrice: int64(r.UnitPrice),
	}
}

func toPlan(p world.Plan) api.Plan {
	return api.Plan{
		ID:              p.ID,
		Name:            p.Name,
		Description:     p.Description,
		Sku:             p.SKU,
		BillingType:     api.PlanBillingType(p.BillingType),
		Currency:        p.Currency,
		SetupFee:        int64(p.SetupFee),
		ServiceTermID:   p.ServiceTermID,
		Periods:         each(p.Periods, toPeriod),
		Resources:       each(p.Resources, toResource),
		Attributes:      stringMap(p.Attributes),
		AutoRenewLocked: p.AutoRenewLocked,
	}
}

func toSubscription(s world.Subscription) api.Subscription {
	a := s.Ability
	out := api.Subscription{
		ID:              s.ID,
		Name:            s.Name,
		TenantID:        s.TenantID,
		ResellerID:      s.ResellerID,
		PlanID:          s.PlanID,
		PeriodID:        s.PeriodID,
		Status:          api.SubscriptionStatus(s.Status),
		Trial:           s.Trial,
		AutoRenew:       s.AutoRenew,
		AutoRenewLocked: s.AutoRenewLocked,
		ExternalID:      s.ExternalID,
		StartDate:       s.StartDate,
		Resources:       quantityMap(s.Resources),
		Attributes:      stringMap(s.Attributes),
		OrderAttributes: stringMap(s.OrderAttributes),
		LastError:       s.LastError,
		Ability: api.Ability{
			Renew:           a.Renew,
			ChangeResources: a.ChangeResources,
			AddResources:    a.AddResources,
			SwitchPlan:      a.SwitchPlan,
			Stop:            a.Stop,
			Activate:        a.Activate,
			Delete:          a.Delete,
			Retry:           a.Retry,
			ChangeAutoRenew: a.ChangeAutoRenew,
		},
		CreatedAt: s.CreatedAt,
		UpdatedAt: s.UpdatedAt,
	}
	if s.ExpirationDate != nil {
		t := *s.ExpirationDate
		out.ExpirationDate = &t
	}
	if s.StoppedAt != nil {
		t := *s.StoppedAt
		out.StoppedAt = &t
	}
	toMetering(&out, s.Metering)
	if op := s.Pending; op != nil {
		p := api.Operation{
			Kind:       api.OperationKind(op.Kind),
			OrderID:    nonZero(op.OrderID),
			PlanID:     nonZero(op.PlanID),
			PeriodID:   nonZero(op.PeriodID),
			PrevStatus: api.SubscriptionStatus(op.PrevStatus),
			Manual:     nonZero(op.Manual),
		}
		if len(op.Resources) > 0 {
			q := quantityMap(op.Resources)
			p.Resources = &q
		}
		out.Pending = &p
	}
	return out
}

func toOrder(o world.Order) api.Order {
	return api.Order{
		ID:             o.ID,
		SubscriptionID: o.SubscriptionID,
		TenantID:       o.TenantID,
		Type:           api.OrderType(o.Type),
		Status:         api.OrderStatus(o.Status),
		PlanID:         o.PlanID,
		PeriodID:       o.PeriodID,
		Resources:      quantityMap(o.Resources),
		Total:          int64(o.Total),
		Currency:       o.Currency,
		Error:          o.Error,
		CreatedAt:      o.CreatedAt,
		UpdatedAt:      o.UpdatedAt,
	}
}

// ---- operations ----

func fromOrderRequest(r api.OrderRequest) platform.OrderRequest {
	return platform.OrderRequest{
		TenantID:   r.TenantID,
		PlanID:     r.PlanID,
		PeriodID:   deref(r.PeriodID),
		Resources:  quantities(r.Resources),
		Attributes: stringsOf(r.Attributes),
		Name:       deref(r.Name),
		AutoRenew:  r.AutoRenew,
	}
}

func fromRenewRequest(r *api.RenewRequest) platform.RenewRequest {
	if r == nil {
		return platform.RenewRequest{}
	}
	return platform.RenewRequest{PeriodID: deref(r.PeriodID), Resources: quantities(r.Resources)}
}

func fromSwitchPlanRequest(r api.SwitchPlanRequest) platform.SwitchRequest {
	return platform.SwitchRequest{PlanID: r.PlanID, PeriodID: deref(r.PeriodID), Resources: quantities(r.Resources)}
}

func fromSubscriptionPatch(p api.SubscriptionPatch) platform.SubscriptionPatch {
	return platform.SubscriptionPatch{Name: p.Name, AutoRenew: p.AutoRenew, AutoRenewLocked: p.AutoRenewLocked}
}

func toOperationResult(r platform.Result) api.OperationResult {
	out := api.OperationResult{
		Subscription: toSubscription(r.Subscription),
		ExchangeIds:  append([]int64{}, r.ExchangeIDs...),
		Warnings:     append([]string{}, r.Warnings...),
	}
	if r.Order != nil {
		o := toOrder(*r.Order)
		out.Order = &o
	}
	out.Refusal = toRefusal(r.Refusal)
	return out
}

// ---- integration ----

func toSettings(s vendorapi.Settings) api.IntegrationSettings {
	return api.IntegrationSettings{
		Mode:                    api.ProvisioningMode(s.Mode),
		NotificationEmail:       s.NotificationEmail,
		APIPath:                 s.APIPath,
		AllowOrderAttributes:    s.AllowOrderAttributes,
		AllowUsageURL:           s.AllowUsageURL,
		AllowConsumptionURL:     s.AllowConsumptionURL,
		AllowResourceValidation: s.AllowResourceValidation,
		AttributesValidation:    s.AttributesValidation,
		Paths:                   stringMap(s.Paths),
		Headers:                 stringMap(s.Headers),
		TimeoutMs:               int64(s.TimeoutMS),
		SubscriptionIDAsString:  s.SubscriptionIDAsString,
		OmitCreateQuery:         s.OmitCreateQuery,
		DispatchConcurrency:     int64(s.DispatchConcurrency),
		DispatchRate:            s.DispatchRate,
		BillingNoticeDays:       int64(s.BillingNoticeDays),
	}
}

// fromSettingsUpdate replaces the settings wholesale: absent fields take
// their zero value (the platform fills the mode).
func fromSettingsUpdate(u api.IntegrationSettingsUpdate) vendorapi.Settings {
	return vendorapi.Settings{
		Mode:                    string(deref(u.Mode)),
		NotificationEmail:       deref(u.NotificationEmail),
		APIPath:                 deref(u.APIPath),
		AllowOrderAttributes:    deref(u.AllowOrderAttributes),
		AllowUsageURL:           deref(u.AllowUsageURL),
		AllowConsumptionURL:     deref(u.AllowConsumptionURL),
		AllowResourceValidation: deref(u.AllowResourceValidation),
		AttributesValidation:    deref(u.AttributesValidation),
		Paths:                   stringsOf(u.Paths),
		Headers:                 stringsOf(u.Headers),
		TimeoutMS:               int(deref(u.TimeoutMs)),
		SubscriptionIDAsString:  deref(u.SubscriptionIDAsString),
		OmitCreateQuery:         deref(u.OmitCreateQuery),
		DispatchConcurrency:     int(deref(u.DispatchConcurrency)),
		DispatchRate:            deref(u.DispatchRate),
		BillingNoticeDays:       int(deref(u.BillingNoticeDays)),
	}
}

func toCheckResult(r platform.CheckResult) api.CheckResult {
	return api.CheckResult{Ready: r.Ready, Message: r.Message, URL: r.URL, ExchangeID: r.ExchangeID}
}

// ---- journal ----

func toExchange(x journal.Exchange) api.Exchange {
	out := api.Exchange{
		ID:             x.ID,
		Workspace:      x.Workspace,
		Event:          api.Event(x.Event),
		SubscriptionID: nonZero(x.SubscriptionID),
		OrderID:        nonZero(x.OrderID),
		UserID:         nonZero(x.UserID),
		Action:         nonZero(x.Action),
		RunID:          nonZero(x.RunID),
		OriginalID:     nonZero(x.OriginalID),
		Request: api.ExchangeRequest{
			Method:   x.Request.Method,
			URL:      x.Request.URL,
			Path:     x.Request.Path,
			Endpoint: nonZero(x.Request.Endpoint),
			Query:    stringMap(x.Request.Query),
			Headers:  stringMap(x.Request.Headers),
		},
		Outcome:     api.Outcome(x.Outcome),
		Error:       nonZero(x.Error),
		StartedAt:   x.StartedAt,
		VirtualTime: x.VirtualTime,
		DurationMs:  x.DurationMS,
	}
	if len(bytes.TrimSpace(x.Request.Body)) > 0 {
		out.Request.Body = append(json.RawMessage(nil), x.Request.Body...)
	}
	if r := x.Response; r != nil {
		out.Response = &api.ExchangeResponse{Status: int64(r.Status), Headers: stringMap(r.Headers), Body: r.Body}
	}
	return out
}

// toExchangeList makes one page of at most limit exchanges from xs, which
// holds up to limit+1: one more than the page means there is a next page,
// and next_cursor is the after_id that fetches it.
func toExchangeList(xs []journal.Exchange, limit int) api.ExchangeList {
	cursor := ""
	if len(xs) > limit {
		xs = xs[:limit]
		cursor = strconv.FormatInt(xs[len(xs)-1].ID, 10)
	}
	return api.ExchangeList{Items: each(xs, toExchange), NextCursor: cursor}
}
