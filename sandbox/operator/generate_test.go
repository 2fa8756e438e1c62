package operator

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates the server and the client from
// openapi.yaml into a temporary copy of the inputs and compares them with
// the committed files: `go generate ./...` must have been run after the
// last change to openapi.yaml or to the oapi-codegen configurations.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: no go command on PATH to build oapi-codegen with")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()

	// The tool, at the version go.mod pins.
	tool := filepath.Join(tmp, "oapi-codegen")
	build := exec.Command(goBin, "build", "-o", tool, "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build oapi-codegen: %v\n%s", err, out)
	}

	// The inputs, at the same relative paths as in the module.
	work := filepath.Join(tmp, "work")
	copyFile(t, filepath.Join(root, "openapi.yaml"), filepath.Join(work, "openapi.yaml"))
	configs, err := filepath.Glob(filepath.Join(root, "oapi-codegen", "*.yaml"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("no oapi-codegen configuration found: %v", err)
	}
	for _, c := range configs {
		copyFile(t, c, filepath.Join(work, "oapi-codegen", filepath.Base(c)))
	}

	for _, tt := range []struct{ config, output string }{
		{"oapi-codegen/api.yaml", "sandbox/operator/api/api.gen.go"},
		{"oapi-codegen/client.yaml", "sandbox/client/client.gen.go"},
	} {
		t.Run(tt.output, func(t *testing.T) {
			gen := exec.Command(tool, "-config", tt.config, "openapi.yaml")
			gen.Dir = work
			if out, err := gen.CombinedOutput(); err != nil {
				t.Fatalf("oapi-codegen -config %s: %v\n%s", tt.config, err, out)
			}
			got, err := os.ReadFile(filepath.Join(work, tt.output))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(root, tt.output))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale: run `go generate ./...` (or `make generate`) and commit the result", tt.output)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
