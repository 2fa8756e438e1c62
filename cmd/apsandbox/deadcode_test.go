package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNoReflectMethod keeps the linker's dead-method elimination on for
// the apsandbox binary. A reachable call of reflect's Method or
// MethodByName with a computed argument makes the linker keep every
// exported method of every reachable type, since any of them might be
// called by name; that one call cost the binary, and the image, 8.5 MB
// (27.8 against 19.3), all of it code no path can run (gin's HTTP/3
// server and the bson, TOML and protobuf codecs among it). gofakeit's
// generator registry and go-playground/validator each had one; see
// sandbox/world/fake.go and sandbox/operator/api/decode.go.
//
// The linker marks such functions <ReflectMethod> in its -dumpdep output.
// The build uses the Makefile's tags (TAGS: nomsgpack).
func TestNoReflectMethod(t *testing.T) {
	if testing.Short() {
		t.Skip("links the whole binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: no go command on PATH")
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-tags", "nomsgpack", "-ldflags=-dumpdep",
		"-o", filepath.Join(t.TempDir(), "apsandbox"), ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	// The linker writes the graph to standard error.
	var out, deps bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &deps
	if err := cmd.Run(); err != nil {
		// The build's own complaint is at the end of the graph.
		tail := deps.Bytes()[max(0, deps.Len()-4000):]
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%s%s", err, out.Bytes(), tail)
	}
	if !bytes.Contains(deps.Bytes(), []byte("main.main")) {
		t.Fatalf("the linker printed no dependency graph (%d bytes); is -dumpdep still supported?", deps.Len())
	}
	if got := reflectMethodCallers(deps.Bytes()); len(got) > 0 {
		t.Errorf("reachable code calls reflect's Method or MethodByName with a computed argument, which turns off dead-method elimination for the whole binary:\n%s",
			strings.Join(got, "\n"))
	}
}

// reflectMethodCallers lists the functions the linker marked
// <ReflectMethod>: reflect's own (when reached) and those that call them.
// The linker prints only what it found reachable.
func reflectMethodCallers(dump []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		for _, side := range []string{from, to} {
			if name, marked := strings.CutSuffix(side, " <ReflectMethod>"); marked {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
