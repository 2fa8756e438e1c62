// Package scenarios is the apsandbox scenario language (version 1): YAML
// files that set up a workspace, drive the sandbox through its operator
// API step by step and check what the platform did and what the vendor
// answered. LANGUAGE.md is the reference; this package parses it strictly
// (every problem with file:line:column), runs it against a sandbox and
// reports in text, JSON and JUnit XML.
//
// The package talks to the sandbox only through the generated operator
// API client, so a scenario runs the same against an in-process sandbox,
// a container or a shared one.
package scenarios

import (
	"fmt"
	"slices"
	"strings"
)

// Pos is a place in a scenario file, for messages a person can jump to.
type Pos struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// String is file:line:column, the form editors and terminals link.
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column) }

// Scenario is one parsed scenario file.
type Scenario struct {
	Name        string
	Description string
	Tags        []string
	// File is where the scenario came from: a path, or
	// "library/<name>.yaml" for a built-in.
	File  string
	Steps []*Step

	seed         int64
	integration  *node // mapping of integration settings, or nil
	vendorFaults []vendorFault
	vars         []kv // initial variables, in file order
}

// Step is one operator action of a scenario, with its expectations.
type Step struct {
	// Name is the step's name, "<index> <action>" when the file gives none.
	Name string
	// Action is the step's action key: order, renew, check…
	Action string
	Pos    Pos

	args        *node // the action's mapping (nil for check)
	faults      faults
	repeat      int
	concurrency int
	expect      *expectations
	captures    []capture
}

// UsesVendorFaults reports whether the scenario arms faults on the vendor, which
// needs the vendor's control API.
func (s *Scenario) UsesVendorFaults() bool { return len(s.vendorFaults) > 0 }

type kv struct {
	key string
	val *node
}

type vendorFault struct {
	pos      Pos
	endpoint string
	status   int64
	message  string
	delayMS  int64
	times    int64
}

// faults are the per-step delivery faults, sent as DeliveryHeader.
type faults struct {
	timeoutMS   int64
	duplicate   bool
	extraFields bool
	late        bool
}

// DeliveryHeader asks the sandbox to deliver the vendor calls of one
// request differently (see LANGUAGE.md, "Delivery faults").
const DeliveryHeader = "X-Apsandbox-Delivery"

// RunHeader ties every request of a run, and the vendor calls it causes,
// to the run id; it is the operator API's header of the same name.
const RunHeader = "X-Apsandbox-Run"

// header is the DeliveryHeader value, "" when no fault is set.
func (f faults) header() string {
	var parts []string
	if f.timeoutMS > 0 {
		parts = append(parts, fmt.Sprintf("timeout_ms=%d", f.timeoutMS))
	}
	if f.duplicate {
		parts = append(parts, "duplicate")
	}
	if f.extraFields {
		parts = append(parts, "extra_fields")
	}
	if f.late {
		parts = append(parts, "late")
	}
	return strings.Join(parts, ",")
}

type capture struct {
	pos  Pos
	name string
	path string
}

// argKind is the type an action argument must have once its variables are
// expanded.
type argKind int

const (
	argInt argKind = iota
	argString
	argBool
	argNumber
	argQuantities // {key: non-negative integer}
	argStringMap  // {key: string}
	argTime       // RFC 3339 string
)

func (k argKind) String() string {
	return [...]string{"an integer", "a string", "a boolean", "a number",
		"a mapping of resource quantities", "a mapping of strings", "an RFC 3339 time"}[k]
}

type argSpec struct {
	name     string
	kind     argKind
	required bool
}

// answerShape says where a step's operator-API answer keeps what the
// expectations read.
type answerShape int

const (
	shapeOperation    answerShape = iota // {subscription, order, exchange_ids, refusal}
	shapeSubscription                    // a Subscription
	shapeUser                            // {user, password, exchange_ids}
	shapeConsumption                     // {subscription, refusal, charges…}
	shapeCheck                           // {ready, message, url, exchange_id}
	shapeAdvance                         // {from, now, events}
	shapeIntegration                     // the settings
)

// action describes one step key of LANGUAGE.md's action table.
type action struct {
	// id names the argument that goes into the URL ("subscription",
	// "user"), "" when none does.
	id    string
	args  []argSpec
	shape answerShape
	// noArgs: the action takes nothing (check); its value must be empty.
	noArgs bool
	// free: the arguments are integration settings (checked against
	// integrationKeys), not args.
	free bool
}

var subscriptionOnly = []argSpec{{"subscription", argInt, true}}

// actions is LANGUAGE.md's table. Adding an action here and in call.go is
// all the language needs.
var actions = map[string]action{
	"order": {args: []argSpec{{"tenant_id", argInt, true}, {"plan_id", argInt, true}, {"period_id", argInt, false},
		{"resources", argQuantities, false}, {"attributes", argStringMap, false}, {"auto_renew", argBool, false}, {"name", argString, false}}},
	"renew":            {id: "subscription", args: []argSpec{{"subscription", argInt, true}, {"period_id", argInt, false}, {"resources", argQuantities, false}}},
	"change_resources": {id: "subscription", args: []argSpec{{"subscription", argInt, true}, {"resources", argQuantities, true}}},
	"switch_plan": {id: "subscription", args: []argSpec{{"subscription", argInt, true}, {"plan_id", argInt, true},
		{"period_id", argInt, false}, {"resources", argQuantities, false}}},
	"stop":     {id: "subscription", args: subscriptionOnly},
	"activate": {id: "subscription", args: subscriptionOnly},
	"delete":   {id: "subscription", args: subscriptionOnly},
	"retry":    {id: "subscription", args: subscriptionOnly},
	"approve":  {id: "subscription", args: subscriptionOnly},
	"decline":  {id: "subscription", args: subscriptionOnly},
	"complete": {id: "subscription", args: []argSpec{{"subscription", argInt, true}, {"external_id", argString, false}, {"attributes", argStringMap, false}}},
	"fail":     {id: "subscription", args: []argSpec{{"subscription", argInt, true}, {"message", argString, true}}},
	"auto_renew": {id: "subscription", shape: shapeSubscription,
		args: []argSpec{{"subscription", argInt, true}, {"on", argBool, true}}},
	"create_user": {shape: shapeUser, args: []argSpec{{"tenant_id", argInt, true}, {"email", argString, true},
		{"first_name", argString, true}, {"last_name", argString, true}, {"role", argString, false}, {"password", argString, false}}},
	"update_user":     {id: "user", shape: shapeUser, args: []argSpec{{"user", argInt, true}, {"first_name", argString, false}, {"last_name", argString, false}}},
	"delete_user":     {id: "user", shape: shapeUser, args: []argSpec{{"user", argInt, true}}},
	"activate_user":   {id: "user", shape: shapeUser, args: []argSpec{{"user", argInt, true}}},
	"deactivate_user": {id: "user", shape: shapeUser, args: []argSpec{{"user", argInt, true}}},
	"reset_password":  {id: "user", shape: shapeUser, args: []argSpec{{"user", argInt, true}, {"password", argString, false}}},
	"usage":           {id: "subscription", args: subscriptionOnly},
	"consumption": {id: "subscription", shape: shapeConsumption,
		args: []argSpec{{"subscription", argInt, true}, {"from", argTime, false}, {"to", argTime, false}}},
	"check":       {shape: shapeCheck, noArgs: true},
	"advance":     {shape: shapeAdvance, args: []argSpec{{"by", argString, false}, {"to", argTime, false}}},
	"integration": {shape: shapeIntegration, free: true},
}

// actionNames lists the actions in a stable order, for messages.
func actionNames() []string {
	names := make([]string, 0, len(actions))
	for n := range actions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// integrationKeys are the fields of PUT …/integration a scenario may set,
// with their types. api_path is left out on purpose: the vendor under test
// is the run's choice, not the file's.
var integrationKeys = map[string]argKind{
	"mode":                      argString,
	"notification_email":        argString,
	"allow_order_attributes":    argBool,
	"allow_usage_url":           argBool,
	"allow_consumption_url":     argBool,
	"allow_resource_validation": argBool,
	"attributes_validation":     argBool,
	"paths":                     argStringMap,
	"headers":                   argStringMap,
	"timeout_ms":                argInt,
	"subscription_id_as_string": argBool,
	"omit_create_query":         argBool,
	"dispatch_concurrency":      argInt,
	"dispatch_rate":             argNumber,
	"billing_notice_days":       argInt,
}

// events are the vendor events an integration's paths may reroute
// (openapi.yaml's Event).
var events = []string{
	"check", "subscription.create", "subscription.renew", "subscription.update", "subscription.stop",
	"subscription.activate", "subscription.delete", "subscription.resource_validation",
	"subscription.usage", "subscription.consumption", "order.attributes", "order.attributes_validation",
	"user.create", "user.update", "user.delete", "user.activate", "user.deactivate", "user.password_reset",
}

// clockEventKinds are openapi.yaml's ClockEventKind, for `events`.
var clockEventKinds = []string{"billing_notice", "consumption", "auto_renew", "expire", "trial_end", "grace_end", "stop_period_end"}

// builtinVars are defined in every scenario: the run's id, the scenario's
// workspace, and the repetition number (1…repeat) of a repeated step.
var builtinVars = []string{"run_id", "workspace", "rep"}
