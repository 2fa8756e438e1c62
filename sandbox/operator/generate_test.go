package operator

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

	// Run openapi.go's go:generate lines as written there, with the tool
	// just built and the toolchain's gofmt.
	gofmt := filepath.Join(goEnv(t, goBin, "GOROOT"), "bin", "gofmt")
	for _, args := range generateDirectives(t, filepath.Join(root, "openapi.go")) {
		switch {
		case len(args) > 2 && args[0] == "go" && args[1] == "tool" && args[2] == "oapi-codegen":
			args = append([]string{tool}, args[3:]...)
		case args[0] == "gofmt":
			args[0] = gofmt
		default:
			t.Fatalf("openapi.go: the test does not know how to run go:generate %q", args)
		}
		gen := exec.Command(args[0], args[1:]...)
		gen.Dir = work
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
	}

	for _, output := range []string{"sandbox/operator/api/api.gen.go", "sandbox/client/client.gen.go"} {
		got, err := os.ReadFile(filepath.Join(work, output))
		if err != nil {
			t.Fatalf("go:generate made no %s: %v", output, err)
		}
		want, err := os.ReadFile(filepath.Join(root, output))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go generate ./...` (or `make generate`) and commit the result", output)
		}
	}
}

// generateDirectives reads the //go:generate lines of a file, each split
// into words as go generate splits them (a double-quoted word is a Go
// string).
func generateDirectives(t *testing.T, path string) [][]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for i, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(line, "//go:generate ")
		if !ok {
			continue
		}
		var args []string
		for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
			if rest[0] != '"' {
				word, tail, _ := strings.Cut(rest, " ")
				args, rest = append(args, word), tail
				continue
			}
			quoted, err := strconv.QuotedPrefix(rest)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			word, _ := strconv.Unquote(quoted)
			args, rest = append(args, word), rest[len(quoted):]
		}
		out = append(out, args)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no go:generate lines", path)
	}
	return out
}

func goEnv(t *testing.T, goBin, name string) string {
	t.Helper()
	out, err := exec.Command(goBin, "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
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
