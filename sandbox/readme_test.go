package sandbox_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/apsandbox/apsandbox/sandbox"
	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/sandbox/examplevendor"
)

// orderAndRenew is the README's Go example, word for word: order a
// subscription with the generated client, renew it, list the exchanges.
func orderAndRenew(ctx context.Context, sandboxURL string) error {
	c, err := client.NewClientWithResponses(sandboxURL)
	if err != nil {
		return err
	}
	ordered, err := c.PlaceOrderWithResponse(ctx, "default", client.OrderRequest{TenantID: 1008, PlanID: 1037})
	if err != nil {
		return err
	}
	if ordered.JSON201 == nil {
		return fmt.Errorf("order: %s", ordered.Body)
	}
	sub := ordered.JSON201.Subscription
	fmt.Println("ordered", sub.ID, sub.Status, "external id", sub.ExternalID)

	renewed, err := c.RenewSubscriptionWithResponse(ctx, "default", sub.ID, client.RenewRequest{})
	if err != nil {
		return err
	}
	if renewed.JSON200 == nil {
		return fmt.Errorf("renew: %s", renewed.Body)
	}
	fmt.Println("renewed:", renewed.JSON200.Subscription.Status)

	xs, err := c.ListExchangesWithResponse(ctx, "default", nil)
	if err != nil {
		return err
	}
	for _, x := range xs.JSON200.Items {
		fmt.Println(x.Event, x.Request.Path, x.Response.Status)
	}
	return nil
}

func listen(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestReadmeExample runs the README's Go example and the ids its curl
// examples use (seed 1: tenant 1008, plan 1037, the first new
// subscription 1108) against the example vendor.
func TestReadmeExample(t *testing.T) {
	vendorURL := listen(t, examplevendor.New(examplevendor.Config{}).Handler())
	srv, err := sandbox.New(sandbox.Config{Seed: 1, VendorURL: vendorURL})
	if err != nil {
		t.Fatal(err)
	}
	base := listen(t, srv.Handler())
	if err := orderAndRenew(t.Context(), base); err != nil {
		t.Fatal(err)
	}
	s, err := srv.Platform().Subscription(t.Context(), "default", 1108)
	if err != nil || s.Status != "active" || s.ExternalID == "" || s.TenantID != 1008 || s.PlanID != 1037 {
		t.Errorf("README's subscription 1108: %+v, %v", s, err)
	}
}

// TestReadmeCurl runs the README's curl examples, in document order, in
// one shell, against a sandbox and an example vendor on the ports the
// README names (rewritten to the test's). A block runs when every command
// in it is curl (or sets a variable) and it talks to nothing but those
// two: the block pointing at "your own service" does not. Every call must
// answer 2xx.
func TestReadmeCurl(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := runnableShell(string(readme))
	if len(blocks) < 3 {
		t.Fatalf("found %d runnable curl blocks in the README, want at least 3 (try it, journal, clock)", len(blocks))
	}
	vendorURL := listen(t, examplevendor.New(examplevendor.Config{}).Handler())
	srv, err := sandbox.New(sandbox.Config{Seed: 1, VendorURL: vendorURL})
	if err != nil {
		t.Fatal(err)
	}
	base := listen(t, srv.Handler())
	script := "set -euo pipefail\ncurl() { command curl --fail-with-body --show-error --max-time 30 \"$@\"; echo; }\n" + strings.Join(blocks, "\n")
	script = strings.NewReplacer(
		"localhost:8080", strings.TrimPrefix(base, "http://"),
		"localhost:9090", strings.TrimPrefix(vendorURL, "http://"),
		"127.0.0.1:9090", strings.TrimPrefix(vendorURL, "http://"),
	).Replace(script)
	cmd := exec.CommandContext(t.Context(), "bash", "-c", script)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's curl examples failed: %v\n%s", err, out)
	}
	// They ordered subscription 1108, had a renewal refused, retried it,
	// and advanced the clock a month.
	s, err := srv.Platform().Subscription(t.Context(), "default", 1108)
	if err != nil || s.Status != "active" || s.LastError != "" {
		t.Errorf("subscription 1108 after the README: %+v, %v", s, err)
	}
	if c, err := srv.Platform().Clock(t.Context(), "default"); err != nil || !c.Now.After(c.Epoch) {
		t.Errorf("the README's advance did not move the clock: %+v %v", c, err)
	}
}

// runnableShell returns the README's sh blocks made only of curl calls and
// variable assignments against localhost:8080 and :9090.
func runnableShell(readme string) []string {
	var out []string
	for _, part := range strings.Split(readme, "```sh\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if strings.Contains(block, "localhost:3000") {
			continue
		}
		ok, cont := true, false
		for _, line := range strings.Split(block, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case cont, line == "", strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "curl "), regexp.MustCompile(`^[A-Z]+=\S+$`).MatchString(line):
			default:
				ok = false
			}
			cont = strings.HasSuffix(line, "\\")
		}
		if ok {
			out = append(out, block)
		}
	}
	return out
}
