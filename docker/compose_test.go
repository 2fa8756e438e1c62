// Package docker_test runs the README's partner-onboarding demo: the
// images make docker builds, started by docker/compose.yaml on the real
// engine.
package docker_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestComposeDemo runs the README's compose block as written, in one
// shell, with these changes only: make docker builds into a temporary
// directory under image names of the test's own, the compose project and
// the published ports are the test's own (through compose.yaml's
// variables), so that a demo or a sandbox running on this machine is left
// alone. The integration check must pass against the example vendor's
// container, and the order must be provisioned by it.
func TestComposeDemo(t *testing.T) {
	compose := requireCompose(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := composeBlock(t, string(readme))

	project := fmt.Sprintf("apsandbox-demo-test-%d", os.Getpid())
	sandboxPort, vendorPort := freePort(t), freePort(t)
	for vendorPort == sandboxPort {
		vendorPort = freePort(t)
	}
	const image, vendorImage = "apsandbox-compose-test", "apsandbox-example-vendor-compose-test"
	env := append(os.Environ(),
		"APSANDBOX_IMAGE="+image+":latest",
		"EXAMPLE_VENDOR_IMAGE="+vendorImage+":latest",
		"APSANDBOX_PORT="+sandboxPort,
		"EXAMPLE_VENDOR_PORT="+vendorPort,
	)
	down := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		args := append(compose[1:], "-f", "docker/compose.yaml", "-p", project, "down", "-v")
		cmd := exec.CommandContext(ctx, compose[0], args...)
		cmd.Dir, cmd.Env = root, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
		for _, img := range []string{image, vendorImage} {
			ids, _ := exec.CommandContext(ctx, "docker", "image", "ls", "-q", "--filter", "reference="+img).Output()
			if f := strings.Fields(string(ids)); len(f) > 0 {
				exec.CommandContext(ctx, "docker", append([]string{"image", "rm", "-f"}, f...)...).Run()
			}
		}
	}
	t.Cleanup(down)

	script := strings.NewReplacer(
		"make docker", fmt.Sprintf("make docker BIN=%s IMAGE=%s VENDOR_IMAGE=%s", t.TempDir(), image, vendorImage),
		"docker-compose ", strings.Join(compose, " ")+" ",
		"-p apsandbox-demo ", "-p "+project+" ",
		"localhost:8080", "localhost:"+sandboxPort,
	).Replace(block)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+script)
	cmd.Dir, cmd.Env = root, env
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	if err != nil {
		t.Fatalf("the README's compose demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		`"ready":true`,            // the check reached the vendor's container
		`"subscription_id":1108`,  // the README's order …
		`"status":"completed"`,    // … was provisioned
		`"url":"http://vendor:90`, // by the vendor service of the compose file
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output lacks %s:\n%s", want, out)
		}
	}
}

// composeBlock is the README's sh block that starts docker/compose.yaml.
func composeBlock(t *testing.T, readme string) string {
	t.Helper()
	for _, part := range strings.Split(readme, "```sh\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if strings.Contains(block, "docker/compose.yaml") && strings.Contains(block, " up -d") {
			return block
		}
	}
	t.Fatal("README.md has no sh block that starts docker/compose.yaml")
	return ""
}

// requireCompose finds docker-compose, or the Compose plugin, with an
// engine that answers. Without them the test skips, loudly, unless
// APSANDBOX_REQUIRE_DOCKER=1 (CI), where a skip would hide a failure.
func requireCompose(t *testing.T) []string {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("APSANDBOX_REQUIRE_DOCKER") == "1" {
			t.Fatalf(format+", and APSANDBOX_REQUIRE_DOCKER=1", args...)
		}
		t.Skipf("SKIPPED: "+format+"; set APSANDBOX_REQUIRE_DOCKER=1 to make this a failure", args...)
	}
	for _, tool := range []string{"bash", "curl", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("%s is not installed", tool)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		skip("no Docker engine answers (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	if exec.CommandContext(ctx, "docker-compose", "version").Run() == nil {
		return []string{"docker-compose"}
	}
	if exec.CommandContext(ctx, "docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	skip("neither docker-compose nor the docker compose plugin is installed")
	return nil
}

// freePort is a TCP port nothing listens on now, below Linux's ephemeral
// range (32768 and up): the engine binds it only after make docker, tens
// of seconds later, and meanwhile the tests running beside this one take
// ephemeral ports, never these.
func freePort(t *testing.T) string {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		ln.Close()
		return strconv.Itoa(port)
	}
	t.Fatal("no free port between 20000 and 32000")
	return ""
}
