package operator

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/vendorapi"
	"github.com/apsandbox/apsandbox/sandbox/world"
)

// TestSpecLoads: openapi.yaml is a valid OpenAPI 3.1 document, webhooks
// included, and its closed lists agree with the code's.
func TestSpecLoads(t *testing.T) {
	doc, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.OpenAPI; got != "3.1.0" {
		t.Errorf("openapi: %q, want 3.1.0", got)
	}

	var events []string
	for _, e := range vendorapi.Events() {
		events = append(events, string(e))
	}
	webhooks := slices.Sorted(maps.Keys(doc.Webhooks))
	if !slices.Equal(webhooks, events) {
		t.Errorf("webhooks %v, want one per vendorapi event %v", webhooks, events)
	}
	for _, name := range webhooks {
		if doc.Webhooks[name].Post == nil {
			t.Errorf("webhook %s has no post operation", name)
		}
	}

	enum := func(schema string) []string {
		var out []string
		for _, v := range doc.Components.Schemas[schema].Value.Enum {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	if got := enum("Event"); !slices.Equal(got, events) {
		t.Errorf("Event enum %v, want %v", got, events)
	}

	statuses := []world.Status{
		world.StatusOrdered, world.StatusActive, world.StatusDelivered, world.StatusGraced,
		world.StatusStopped, world.StatusDeleted, world.StatusBlocked,
		world.StatusInstalling, world.StatusActivating, world.StatusUpdating, world.StatusRenewing,
		world.StatusStopping, world.StatusDeleting, world.StatusWaitingForManualApprove,
		world.StatusInstallationFailed, world.StatusActivationFailed, world.StatusUpdatingFailed,
		world.StatusRenewingFailed, world.StatusStoppingFailed, world.StatusDeletionFailed,
	}
	var want []string
	for _, s := range statuses {
		want = append(want, string(s))
	}
	slices.Sort(want)
	if got := enum("SubscriptionStatus"); !slices.Equal(got, want) {
		t.Errorf("SubscriptionStatus enum %v, want %v", got, want)
	}

	codes := []world.Code{world.CodeInvalidArgument, world.CodeNotFound, world.CodeConflict, world.CodeForbidden, world.CodeUnauthenticated, world.CodeInternal}
	want = want[:0]
	for _, c := range codes {
		want = append(want, string(c))
	}
	slices.Sort(want)
	if got := enum("ErrorCode"); !slices.Equal(got, want) {
		t.Errorf("ErrorCode enum %v, want %v", got, want)
	}
}

// TestEveryOperationDocumentsErrors: every operation has a default error
// response, and every operation id is set.
func TestEveryOperationDocumentsErrors(t *testing.T) {
	doc, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
			if op.Responses.Default() == nil {
				t.Errorf("%s %s has no default response", method, path)
			}
		}
	}
}

// TestWebhookBodiesOfVendorAPI: the bodies vendorapi builds match the
// webhooks of openapi.yaml, for both spellings of subscription.id.
func TestWebhookBodiesOfVendorAPI(t *testing.T) {
	rv, err := NewResponseValidator()
	if err != nil {
		t.Fatal(err)
	}
	w := fixtureWorld()
	plan, period := &w.Plans[0], &w.Plans[0].Periods[0]
	target := vendorapi.Target{Plan: plan, Period: period, Resources: map[string]int64{"user_licenses": 60}}
	created := w.Subscriptions[0]
	fresh := created
	fresh.ExternalID = ""

	tests := []struct {
		name  string
		event vendorapi.Event
		sub   *world.Subscription
		asStr bool
	}{
		{"create", vendorapi.EventSubscriptionCreate, &fresh, false},
		{"create, id as string", vendorapi.EventSubscriptionCreate, &fresh, true},
		{"renew", vendorapi.EventSubscriptionRenew, &created, false},
		{"update, id as string", vendorapi.EventSubscriptionUpdate, &created, true},
		{"stop", vendorapi.EventSubscriptionStop, &created, false},
		{"activate", vendorapi.EventSubscriptionActivate, &created, false},
		{"delete", vendorapi.EventSubscriptionDelete, &created, false},
		{"resource validation", vendorapi.EventSubscriptionResourceCheck, &created, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := vendorapi.DefaultSettings("http://vendor.example")
			set.SubscriptionIDAsString = tt.asStr
			body, err := vendorapi.SubscriptionBody(w, tt.sub, target, set)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			if err := rv.ValidateWebhookBody(string(tt.event), raw); err != nil {
				t.Errorf("%s\n%s", err, raw)
			}
		})
	}
}

// TestValidateWebhookBody: the webhook validator tells a documented body
// from the rest.
func TestValidateWebhookBody(t *testing.T) {
	user := `{"password":"S3cret!","email":"john.doe@example.com","first_name":"John","last_name":"Doe"}`
	tests := []struct {
		name    string
		event   string
		body    string
		wantErr string // "" for valid
	}{
		{"check without body", "check", "", ""},
		{"check with body", "check", `{"x":1}`, "without a body"},
		{"user create", "user.create", user, ""},
		{"user create without email", "user.create", `{"password":"p","first_name":"J","last_name":"D"}`, "email"},
		{"user update", "user.update", `{"id":"1234567","first_name":"John","last_name":"Doe"}`, ""},
		{"user delete", "user.delete", `{"id":"1234567"}`, ""},
		{"user delete with a numeric id", "user.delete", `{"id":1234567}`, "string"},
		{"user password reset", "user.password_reset", `{"id":"1234567","password":"N3w$Pass"}`, ""},
		{"renew without external_id", "subscription.renew", `{}`, "external_id"},
		{"not JSON", "user.activate", `{"id":`, "not valid JSON"},
		{"missing body", "user.deactivate", ``, "required"},
		{"unknown event", "subscription.explode", `{}`, "no webhook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateWebhookBody(tt.event, []byte(tt.body))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ValidateWebhookBody(%s, %s) = %v, want nil", tt.event, tt.body, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ValidateWebhookBody(%s, %s) = %v, want an error naming %q", tt.event, tt.body, err, tt.wantErr)
			}
		})
	}
}
