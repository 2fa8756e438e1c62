package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/client"
)

const jsonType = "application/json"

// call performs a step's action through the generated client and returns
// the operator API's answer as it came.
func call(ctx context.Context, c *client.ClientWithResponses, ws string, st *Step, vars map[string]any, eds []client.RequestEditorFn) (client.Response, error) {
	a := actions[st.Action]
	var args map[string]any
	if st.args != nil && !a.free {
		v, err := expand(st.args, vars)
		if err != nil {
			return nil, err
		}
		args, _ = v.(map[string]any)
		for _, s := range a.args {
			if x, ok := args[s.name]; ok {
				if err := checkKind(x, s.kind); err != nil {
					return nil, fmt.Errorf("%s: %s: %w", st.args.get(s.name).pos, s.name, err)
				}
			}
		}
	}
	var id int64
	if a.id != "" {
		n, ok := asID(args[a.id])
		if !ok {
			return nil, fmt.Errorf("%s: %s: %s is not an id", st.args.get(a.id).pos, a.id, jsonText(args[a.id]))
		}
		id = n
		delete(args, a.id)
	}
	body := func() io.Reader {
		b, _ := json.Marshal(args)
		return bytes.NewReader(b)
	}
	switch st.Action {
	case "order":
		return c.PlaceOrderWithBodyWithResponse(ctx, ws, jsonType, body(), eds...)
	case "renew":
		return c.RenewSubscriptionWithBodyWithResponse(ctx, ws, id, jsonType, body(), eds...)
	case "change_resources":
		return c.ChangeResourcesWithBodyWithResponse(ctx, ws, id, jsonType, body(), eds...)
	case "switch_plan":
		return c.SwitchPlanWithBodyWithResponse(ctx, ws, id, jsonType, body(), eds...)
	case "stop":
		return c.StopSubscriptionWithResponse(ctx, ws, id, eds...)
	case "activate":
		return c.ActivateSubscriptionWithResponse(ctx, ws, id, eds...)
	case "delete":
		return c.DeleteSubscriptionWithResponse(ctx, ws, id, eds...)
	case "retry":
		return c.RetrySubscriptionWithResponse(ctx, ws, id, eds...)
	case "approve":
		return c.ApproveSubscriptionWithResponse(ctx, ws, id, eds...)
	case "decline":
		return c.DeclineSubscriptionWithResponse(ctx, ws, id, eds...)
	case "complete":
		return c.CompleteSubscriptionWithBodyWithResponse(ctx, ws, id, jsonType, body(), eds...)
	case "fail":
		return c.FailSubscriptionWithBodyWithResponse(ctx, ws, id, jsonType, body(), eds...)
	case "auto_renew":
		args = map[string]any{"auto_renew": args["on"]}
		return c.UpdateSubscriptionWithBodyWithResponse(ctx, ws, id, jsonType, body(), eds...)
	case "create_user":
		return c.CreateUserWithBodyWithResponse(ctx, ws, jsonType, body(), eds...)
	case "update_user":
		return c.UpdateUserWithBodyWithResponse(ctx, ws, id, jsonType, body(), eds...)
	case "delete_user":
		return c.DeleteUserWithResponse(ctx, ws, id, eds...)
	case "activate_user":
		return c.ActivateUserWithResponse(ctx, ws, id, eds...)
	case "deactivate_user":
		return c.DeactivateUserWithResponse(ctx, ws, id, eds...)
	case "reset_password":
		return c.ResetUserPasswordWithBodyWithResponse(ctx, ws, id, jsonType, body(), eds...)
	case "usage":
		return c.PullUsageWithResponse(ctx, ws, id, eds...)
	case "consumption":
		return c.PullConsumptionWithBodyWithResponse(ctx, ws, id, jsonType, body(), eds...)
	case "check":
		return c.CheckIntegrationWithResponse(ctx, ws, eds...)
	case "advance":
		return c.AdvanceClockWithBodyWithResponse(ctx, ws, jsonType, body(), eds...)
	case "integration":
		return putIntegration(ctx, c, ws, st.args, vars, eds)
	}
	return nil, fmt.Errorf("%s: action %q has no call", st.Pos, st.Action)
}

// putIntegration merges settings over the workspace's current ones and
// stores the result: PUT replaces everything, a scenario names only what
// it changes. paths and headers merge key by key.
func putIntegration(ctx context.Context, c *client.ClientWithResponses, ws string, settings *node, vars map[string]any, eds []client.RequestEditorFn) (client.Response, error) {
	cur, err := c.GetIntegrationWithResponse(ctx, ws, eds...)
	if err != nil {
		return nil, err
	}
	if err := client.ResponseError(cur); err != nil {
		return cur, nil
	}
	var merged map[string]any
	if err := json.Unmarshal(cur.Body, &merged); err != nil {
		return nil, fmt.Errorf("read integration settings: %w", err)
	}
	v, err := expand(settings, vars)
	if err != nil {
		return nil, err
	}
	for k, val := range v.(map[string]any) {
		if err := checkKind(val, integrationKeys[k]); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", settings.get(k).pos, k, err)
		}
		if sub, ok := val.(map[string]any); ok {
			old, _ := merged[k].(map[string]any)
			if old == nil {
				old = map[string]any{}
			}
			for sk, sv := range sub {
				old[sk] = sv
			}
			val = old
		}
		merged[k] = val
	}
	b, _ := json.Marshal(merged)
	return c.PutIntegrationWithBodyWithResponse(ctx, ws, jsonType, bytes.NewReader(b), eds...)
}

// checkKind checks an expanded argument, so that a variable of the wrong
// type is this step's clear failure rather than the sandbox's 400.
func checkKind(v any, kind argKind) error {
	ok := false
	switch kind {
	case argInt:
		_, ok = v.(int64)
	case argNumber:
		_, ok = number(v)
	case argBool:
		_, ok = v.(bool)
	case argString:
		_, ok = v.(string)
	case argTime:
		var s string
		if s, ok = v.(string); ok {
			_, err := time.Parse(time.RFC3339, s)
			ok = err == nil
		}
	case argQuantities, argStringMap:
		var m map[string]any
		if m, ok = v.(map[string]any); ok {
			for _, e := range m {
				if kind == argQuantities {
					n, isInt := e.(int64)
					ok = ok && isInt && n >= 0
				} else {
					_, isStr := e.(string)
					ok = ok && isStr
				}
			}
		}
	}
	if !ok {
		return fmt.Errorf("must be %s, got %s", kind, jsonText(v))
	}
	return nil
}
