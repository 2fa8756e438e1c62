// Package sandbox is the composition root of apsandbox: it builds the
// platform, the journal and the operator API from a Config and serves them.
// Everything a user can start — the apsandbox binary, the in-process test
// helper, the container — goes through New.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/apsandbox/apsandbox/sandbox/journal"
	"github.com/apsandbox/apsandbox/sandbox/operator"
	"github.com/apsandbox/apsandbox/sandbox/platform"
)

// Version is stamped by the build (-ldflags "-X …sandbox.Version=…").
var Version = "dev"

// Config is everything that shapes a sandbox. It is a plain value: the
// CLI fills it from flags and APSANDBOX_* variables, tests fill it
// directly.
type Config struct {
	// Addr is the listen address of Run.
	Addr string
	// Seed of the default workspace's world.
	Seed int64
	// VendorURL is the default workspace's api_path.
	VendorURL string
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// HTTPClient calls vendors; nil means the default client.
	HTTPClient *http.Client
	// DataDir holds the SQLite journal and the workspaces, so a restart
	// finds them again. journal.MemoryDir (":memory:") is a SQLite
	// database that dies with the process; "" is a plain in-memory
	// journal, the fastest, for in-process tests.
	DataDir string
	// Retention bounds the journal; the zero value keeps everything.
	Retention journal.Retention
	// ControlToken, when set, lets callers that send it as a bearer token
	// read exchanges unredacted (?raw=true). Without it nobody can.
	ControlToken string
	// ScenarioDir holds scenario files (*.yaml, *.yml) that POST
	// …/scenario-runs can run by name, besides the built-ins. Every file
	// must parse: a bad one stops New with its line:column problems.
	ScenarioDir string
	// OutboxCap is how many e-mails each workspace's outbox keeps, the
	// newest; 0 means platform.DefaultOutboxCap (10,000).
	OutboxCap int
}

// DefaultConfig is what `apsandbox serve` runs with when nothing is set.
func DefaultConfig() Config {
	return Config{Addr: ":8080", Seed: 1, ShutdownTimeout: 10 * time.Second, DataDir: "./data", Retention: journal.DefaultRetention}
}

// Server is a running (or ready to run) sandbox.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    journal.Store
	platform *platform.Platform
	engine   *gin.Engine
	ready    atomic.Bool
}

// New builds a sandbox from cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	store, err := openStore(cfg)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	p, err := platform.New(platform.Config{
		Seed:       cfg.Seed,
		VendorURL:  cfg.VendorURL,
		HTTPClient: cfg.HTTPClient,
		Version:    Version,
		Logger:     cfg.Logger,
		OutboxCap:  cfg.OutboxCap,
	}, store)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, store: store, platform: p}
	runs := &scenarioRuns{s: s}
	if cfg.ScenarioDir != "" {
		if runs.loaded, err = loadScenarioDir(cfg.ScenarioDir); err != nil {
			store.Close()
			return nil, fmt.Errorf("sandbox: scenarios in %s:\n%w", cfg.ScenarioDir, err)
		}
		cfg.Logger.Info("scenarios loaded", "dir", cfg.ScenarioDir, "count", len(runs.loaded))
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(gin.Recovery(), s.accessLog())
	e.HandleMethodNotAllowed = true
	op := operator.New(p,
		operator.WithReadiness(func() bool { return s.ready.Load() && store.Err() == nil }),
		operator.WithLogger(cfg.Logger),
		operator.WithControlToken(cfg.ControlToken),
		operator.WithVersion(Version),
		operator.WithScenarios(runs))
	op.Register(e)
	s.engine = e
	s.ready.Store(true)
	return s, nil
}

func openStore(cfg Config) (journal.Store, error) {
	if cfg.DataDir == "" {
		return journal.NewMemory(cfg.Retention), nil
	}
	return journal.OpenSQLite(context.Background(), cfg.DataDir, cfg.Retention)
}

// Handler serves the whole sandbox: operator API, health and spec.
func (s *Server) Handler() http.Handler { return s.engine }

// Platform gives in-process users direct access to the platform.
func (s *Server) Platform() *platform.Platform { return s.platform }

// Run listens on cfg.Addr and serves until ctx is done, then shuts down
// gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("apsandbox listening", "addr", ln.Addr().String(), "version", Version, "seed", s.cfg.Seed, "vendor", s.cfg.VendorURL, "data", dataName(s.cfg.DataDir))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close commits what is queued and closes the journal. Call it after Run
// or Serve returned.
func (s *Server) Close() error {
	s.ready.Store(false)
	return s.store.Close()
}

// accessLog logs one line per request.
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		path := c.Request.URL.Path
		if path == "/healthz" || path == "/readyz" {
			return
		}
		lvl := slog.LevelInfo
		if c.Writer.Status() >= 500 {
			lvl = slog.LevelError
		}
		s.log.Log(c.Request.Context(), lvl, "request",
			"method", c.Request.Method, "path", path, "status", c.Writer.Status(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	}
}

func dataName(dir string) string {
	if dir == "" {
		return "(in memory)"
	}
	return dir
}
