// Package sandboxtc runs apsandbox in a container for Go integration tests,
// as a testcontainers-go module: a vendor's test starts its own service,
// starts the sandbox next to it with Run, and drives the platform through
// the operator API.
//
// The image is the one `make docker` builds (DefaultImage), or any tag of
// it. A vendor served by the test process is reachable from the container
// at host.docker.internal: listen on all interfaces (ListenForContainer)
// and pass VendorURL(listener) to WithVendor; Run adds the host-gateway
// alias that makes the name resolve.
package sandboxtc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/apsandbox/apsandbox/sandbox/client"
	"github.com/apsandbox/apsandbox/scenarios"
)

// DefaultImage is the tag `make docker` gives the sandbox image.
const DefaultImage = "apsandbox:latest"

// Port is the operator API's port inside the container.
const Port = "8080/tcp"

// HostAlias is the name under which the container reaches the host (and a
// vendor served by the test process).
const HostAlias = "host.docker.internal"

// Container is a running sandbox.
type Container struct {
	testcontainers.Container
	settings options
}

// options is what Run needs beyond the container request.
type options struct {
	workspace string
	vendor    string
	seed      int64
	token     string
}

// Option configures what Run does once the container is up.
type Option func(*options) error

// Customize makes an Option a testcontainers.ContainerCustomizer; the
// request is shaped by the options that set environment variables.
func (o Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithVendor sets the vendor's base URL: the default workspace's api_path,
// and that of the workspace WithWorkspace creates.
func WithVendor(url string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if url == "" {
			return errors.New("sandboxtc: WithVendor: empty URL")
		}
		return testcontainers.WithEnv(map[string]string{"APSANDBOX_VENDOR": url})(req)
	}
}

// WithSeed sets the seed of the default workspace's world (and of the one
// WithWorkspace creates): the same seed gives the same world.
func WithSeed(seed int64) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if seed <= 0 {
			return fmt.Errorf("sandboxtc: WithSeed: must be positive, got %d", seed)
		}
		return testcontainers.WithEnv(map[string]string{"APSANDBOX_SEED": strconv.FormatInt(seed, 10)})(req)
	}
}

// WithControlToken sets the bearer token that unlocks raw (unredacted)
// exchanges and replays.
func WithControlToken(token string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(map[string]string{"APSANDBOX_CONTROL_TOKEN": token})
}

// WithWorkspace creates a workspace of that name once the sandbox is up,
// with the vendor and seed given to WithVendor and WithSeed, so that a
// test works in a world of its own. Client and Workspace use it.
func WithWorkspace(name string) Option {
	return func(o *options) error {
		if name == "" {
			return errors.New("sandboxtc: WithWorkspace: empty name")
		}
		o.workspace = name
		return nil
	}
}

// ScenarioDir is where WithScenario puts scenario files in the container.
const ScenarioDir = "/scenarios"

// WithScenario loads a scenario file into the sandbox, so that
// Container.RunScenario (or POST …/scenario-runs) runs it by its name.
// The file is checked here first: one that does not parse is an error
// naming its line and column, before any container starts.
func WithScenario(path string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		src, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("sandboxtc: WithScenario: %w", err)
		}
		if _, err := scenarios.Parse(path, src); err != nil {
			return fmt.Errorf("sandboxtc: WithScenario:\n%w", err)
		}
		base := filepath.Base(path)
		if ext := filepath.Ext(base); ext != ".yaml" && ext != ".yml" {
			base += ".yaml"
		}
		req.Files = append(req.Files, testcontainers.ContainerFile{
			HostFilePath: path, ContainerFilePath: ScenarioDir + "/" + base, FileMode: 0o644,
		})
		return testcontainers.WithEnv(map[string]string{"APSANDBOX_SCENARIOS": ScenarioDir})(req)
	}
}

// WithHostAccess lets the container reach the host as HostAlias. Run adds
// it already; it is exported for requests built by hand.
func WithHostAccess() testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		hc.ExtraHosts = append(hc.ExtraHosts, HostAlias+":host-gateway")
	})
}

// ListenForContainer listens on all interfaces on a free port, so that a
// vendor served by the test process can be reached from the container. A
// listener on 127.0.0.1 (as httptest.NewServer makes) cannot be: inside
// the container, 127.0.0.1 is the container.
func ListenForContainer() (net.Listener, error) {
	return net.Listen("tcp", "0.0.0.0:0")
}

// VendorURL is the base URL under which the container reaches a vendor
// served on ln, with path appended (e.g. "/ap" or "").
func VendorURL(ln net.Listener, path string) string {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "http://" + net.JoinHostPort(HostAlias, port) + path
}

// Run starts the sandbox image img and waits until its operator API is
// ready. Options: WithVendor, WithSeed, WithControlToken, WithWorkspace,
// WithScenario, and
// any testcontainers option (they come after the module's defaults, so
// they win).
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	var settings options
	for _, opt := range opts {
		if o, ok := opt.(Option); ok {
			if err := o(&settings); err != nil {
				return nil, err
			}
		}
	}
	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(Port),
		testcontainers.WithEnv(map[string]string{"APSANDBOX_LOG_FORMAT": "json"}),
		WithHostAccess(),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/readyz").WithPort(Port).
			WithPollInterval(20 * time.Millisecond).WithStartupTimeout(60 * time.Second)),
	}
	moduleOpts = append(moduleOpts, opts...)
	// Read back what the environment options set: WithWorkspace creates
	// its workspace with the same vendor and seed.
	moduleOpts = append(moduleOpts, testcontainers.CustomizeRequestOption(func(req *testcontainers.GenericContainerRequest) error {
		settings.vendor = req.Env["APSANDBOX_VENDOR"]
		settings.token = req.Env["APSANDBOX_CONTROL_TOKEN"]
		if s := req.Env["APSANDBOX_SEED"]; s != "" {
			settings.seed, _ = strconv.ParseInt(s, 10, 64)
		}
		return nil
	}))

	ctr, err := testcontainers.Run(ctx, img, moduleOpts...)
	var c *Container
	if ctr != nil {
		c = &Container{Container: ctr, settings: settings}
	}
	if err != nil {
		return c, fmt.Errorf("run apsandbox: %w", err)
	}
	if settings.workspace != "" {
		if err := c.createWorkspace(ctx); err != nil {
			return c, fmt.Errorf("run apsandbox: %w", err)
		}
	}
	return c, nil
}

// BaseURL is the operator API's URL as the host sees it, e.g.
// http://localhost:32768.
func (c *Container) BaseURL(ctx context.Context) (string, error) {
	return c.PortEndpoint(ctx, Port, "http")
}

// Workspace is the workspace tests work in: WithWorkspace's, or "default".
func (c *Container) Workspace() string {
	if c.settings.workspace != "" {
		return c.settings.workspace
	}
	return "default"
}

// Client is the operator API of the container, bound to Workspace(), and
// carrying the control token when WithControlToken set one.
func (c *Container) Client(ctx context.Context) (*client.Session, error) {
	base, err := c.BaseURL(ctx)
	if err != nil {
		return nil, err
	}
	var opts []client.ClientOption
	if c.settings.token != "" {
		opts = append(opts, client.WithControlToken(c.settings.token))
	}
	s, err := client.NewSession(base, opts...)
	if err != nil {
		return nil, err
	}
	return s.In(c.Workspace()), nil
}

// createWorkspace makes WithWorkspace's workspace through the API.
func (c *Container) createWorkspace(ctx context.Context) error {
	s, err := c.Client(ctx)
	if err != nil {
		return err
	}
	req := client.CreateWorkspaceRequest{Name: c.settings.workspace}
	if c.settings.vendor != "" {
		req.VendorURL = &c.settings.vendor
	}
	if c.settings.seed != 0 {
		req.Seed = &c.settings.seed
	}
	resp, err := s.CreateWorkspaceWithResponse(ctx, req)
	if err != nil {
		return fmt.Errorf("create workspace %q: %w", c.settings.workspace, err)
	}
	if resp.JSON201 == nil {
		return fmt.Errorf("create workspace %q: %d %s", c.settings.workspace, resp.StatusCode(), resp.Body)
	}
	return nil
}

// RunScenario runs a scenario in the sandbox against the workspace's
// vendor: one loaded with WithScenario, or a built-in (including
// "conformance"). A scenario whose expectations fail is a report with
// Passed false, not an error.
func (c *Container) RunScenario(ctx context.Context, name string) (client.ScenarioRun, error) {
	s, err := c.Client(ctx)
	if err != nil {
		return client.ScenarioRun{}, err
	}
	resp, err := s.RunScenarioWithResponse(ctx, c.Workspace(), client.ScenarioRunRequest{Name: &name})
	if err != nil {
		return client.ScenarioRun{}, fmt.Errorf("run scenario %s: %w", name, err)
	}
	if resp.JSON201 == nil {
		return client.ScenarioRun{}, fmt.Errorf("run scenario %s: %w", name, client.ResponseError(resp))
	}
	return *resp.JSON201, nil
}
