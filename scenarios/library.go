package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
)

// library holds the built-in scenarios. Adding one is adding a YAML file
// to library/: it is embedded, listed and runnable by its name.
//
//go:embed library/*.yaml
var library embed.FS

// Info describes a built-in scenario, for `apsandbox scenarios` and the
// console.
type Info struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	File        string   `json:"file"`
}

// Suites are names that Load expands to several built-ins.
const (
	// SuiteAll runs every built-in.
	SuiteAll = "all"
	// SuiteConformance runs the built-ins tagged "conformance".
	SuiteConformance = "conformance"
)

var (
	builtinsOnce sync.Once
	builtins     []*Scenario
	builtinsErr  error
)

// loadBuiltins parses the library once. A built-in that does not parse
// is a bug of this package (TestLibrary catches it), reported as an
// error rather than a panic so that the other built-ins stay usable.
func loadBuiltins() ([]*Scenario, error) {
	builtinsOnce.Do(func() {
		files, _ := fs.Glob(library, "library/*.yaml")
		slices.Sort(files)
		var errs Errors
		for _, f := range files {
			src, _ := library.ReadFile(f)
			sc, err := Parse(f, src)
			if err != nil {
				errs = append(errs, err.(Errors)...)
				continue
			}
			if want := strings.TrimSuffix(path.Base(f), ".yaml"); sc.Name != want {
				errs = append(errs, &Error{Pos: Pos{File: f, Line: 1, Column: 1}, Key: "name",
					Msg: fmt.Sprintf("a built-in's name is its file name: want %q, got %q", want, sc.Name)})
				continue
			}
			builtins = append(builtins, sc)
		}
		builtinsErr = errs.asError()
	})
	return builtins, builtinsErr
}

// Library lists the built-in scenarios by name.
func Library() []Info {
	scs, _ := loadBuiltins()
	out := make([]Info, len(scs))
	for i, sc := range scs {
		out[i] = Info{Name: sc.Name, Description: sc.Description, Tags: slices.Clone(sc.Tags), File: sc.File}
		if out[i].Tags == nil {
			out[i].Tags = []string{}
		}
	}
	return out
}

// Load loads scenarios by built-in name, suite name (all, conformance) or
// file path. A name with a slash or a .yaml/.yml suffix is a path; any
// other is a built-in first and a file second. A file that does not
// parse returns Errors.
func Load(nameOrPath string) ([]*Scenario, error) {
	scs, err := loadBuiltins()
	if err != nil {
		return nil, fmt.Errorf("built-in scenarios: %w", err)
	}
	switch nameOrPath {
	case SuiteAll:
		return slices.Clone(scs), nil
	case SuiteConformance:
		var out []*Scenario
		for _, sc := range scs {
			if slices.Contains(sc.Tags, "conformance") {
				out = append(out, sc)
			}
		}
		if len(out) == 0 {
			return nil, errors.New("no built-in scenario is tagged conformance yet")
		}
		return out, nil
	}
	isPath := strings.ContainsAny(nameOrPath, `/\`) || strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml")
	if !isPath {
		for _, sc := range scs {
			if sc.Name == nameOrPath {
				return []*Scenario{sc}, nil
			}
		}
	}
	src, err := os.ReadFile(nameOrPath)
	if err != nil {
		if !isPath && errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%q is neither a built-in scenario (apsandbox scenarios lists them) nor a file", nameOrPath)
		}
		return nil, err
	}
	sc, err := Parse(nameOrPath, src)
	if err != nil {
		return nil, err
	}
	return []*Scenario{sc}, nil
}

// LoadAll loads every argument as Load does and checks them together. It
// does not stop at the first bad file: the error is Errors with every
// problem of every file (a file that cannot be read is one problem at its
// line 1), plus scenario names used twice in the run.
func LoadAll(namesOrPaths ...string) ([]*Scenario, error) {
	var all []*Scenario
	var errs Errors
	for _, a := range namesOrPaths {
		scs, err := Load(a)
		var es Errors
		switch {
		case errors.As(err, &es):
			errs = append(errs, es...)
			continue
		case err != nil:
			errs = append(errs, &Error{Pos: Pos{File: a, Line: 1, Column: 1}, Msg: err.Error()})
			continue
		}
		all = append(all, scs...)
	}
	seen := map[string]*Scenario{}
	var unique []*Scenario
	for _, sc := range all {
		if prev, ok := seen[sc.Name]; ok {
			if prev.File != sc.File {
				errs = append(errs, &Error{Pos: Pos{File: sc.File, Line: 1, Column: 1}, Key: "name",
					Msg: fmt.Sprintf("scenario %q is also defined in %s: names are unique in a run", sc.Name, prev.File)})
			}
			continue // the same built-in asked twice runs once
		}
		seen[sc.Name] = sc
		unique = append(unique, sc)
	}
	if len(errs) > 0 {
		return nil, errs.asError()
	}
	return unique, nil
}

// Validate checks scenarios without running them and returns every
// problem (Errors), or nil.
func Validate(namesOrPaths ...string) error {
	_, err := LoadAll(namesOrPaths...)
	return err
}
