package scenarios

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// node is a YAML value with its position. The parser keeps the whole file
// as nodes rather than Go values so that a problem found late — a
// variable that expands to the wrong type at run time, a failed
// expectation — still points at its line and column.
type node struct {
	pos  Pos
	kind nodeKind
	b    bool
	i    int64
	f    float64
	s    string
	keys []*node // mapping keys (strings), in file order
	vals []*node // mapping values, parallel to keys
	list []*node
}

type nodeKind int

const (
	kNull nodeKind = iota
	kBool
	kInt
	kFloat
	kString
	kMap
	kList
)

func (k nodeKind) String() string {
	return [...]string{"null", "a boolean", "an integer", "a number", "a string", "a mapping", "a list"}[k]
}

// get returns the value of key in a mapping node, nil when absent.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kMap {
		return nil
	}
	for i, k := range n.keys {
		if k.s == key {
			return n.vals[i]
		}
	}
	return nil
}

// scalarString is a scalar's text as a person wrote it, for messages.
func (n *node) scalarString() string {
	switch n.kind {
	case kNull:
		return "null"
	case kBool:
		return strconv.FormatBool(n.b)
	case kInt:
		return strconv.FormatInt(n.i, 10)
	case kFloat:
		return strconv.FormatFloat(n.f, 'g', -1, 64)
	case kString:
		return strconv.Quote(n.s)
	}
	return n.kind.String()
}

// parseYAML reads one YAML document into nodes. A syntax error is
// returned as a single *Error with the parser's position.
func parseYAML(file string, src []byte) (*node, *Error) {
	if len(src) > MaxSourceBytes {
		return nil, &Error{Pos: Pos{File: file, Line: 1, Column: 1}, Msg: fmt.Sprintf("the file is %d bytes; a scenario may be at most %d", len(src), MaxSourceBytes)}
	}
	// The YAML parser takes time quadratic in how deeply flow collections
	// nest: refuse a pathological file before it starts.
	if pos, ok := flowTooDeep(file, src); ok {
		return nil, &Error{Pos: pos, Msg: fmt.Sprintf("collections nest more than %d deep here", maxDepth)}
	}
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		e := &Error{Pos: Pos{File: file, Line: 1, Column: 1}, Msg: err.Error()}
		var ye yaml.Error
		if errors.As(err, &ye) {
			e.Msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				e.Pos.Line, e.Pos.Column = tk.Position.Line, tk.Position.Column
			}
		}
		return nil, e
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch len(docs) {
	case 0:
		return nil, &Error{Pos: Pos{File: file, Line: 1, Column: 1}, Msg: "the file is empty"}
	case 1:
	default:
		second := (&converter{file: file, anchors: map[string]*node{}}).convert(docs[1].Body)
		return nil, &Error{Pos: second.pos, Msg: "one scenario per file: a second YAML document starts here"}
	}
	c := converter{file: file, anchors: map[string]*node{}}
	n := c.convert(docs[0].Body)
	if c.err != nil {
		return nil, c.err
	}
	return n, nil
}

func position(file string, n ast.Node) Pos {
	p := Pos{File: file, Line: 1, Column: 1}
	if n == nil {
		return p
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		p.Line, p.Column = tk.Position.Line, tk.Position.Column
	}
	return p
}

// Limits that keep a hostile scenario (one sent to POST …/scenario-runs,
// say) from tying up the sandbox: its size, how deeply it nests, and how
// many values it holds once every alias is expanded (a "billion laughs"
// file is a few hundred bytes).
const (
	MaxSourceBytes = 256 << 10
	maxDepth       = 64
	maxNodes       = 100_000
)

type converter struct {
	file    string
	anchors map[string]*node
	err     *Error
	// depth is the nesting of the value being converted; nodes counts
	// the values made, an alias counting as many as its anchor holds.
	depth, nodes int
}

// flowTooDeep finds where [ and { (outside quotes and comments) first
// nest deeper than maxDepth.
func flowTooDeep(file string, src []byte) (Pos, bool) {
	depth, line, col := 0, 1, 0
	var quote byte
	comment := false
	for _, b := range src {
		col++
		switch {
		case b == '\n':
			line, col, comment = line+1, 0, false
			continue
		case comment:
			continue
		case quote != 0:
			if b == quote {
				quote = 0
			}
			continue
		}
		switch b {
		case '"', '\'':
			quote = b
		case '#':
			comment = true
		case '[', '{':
			if depth++; depth > maxDepth {
				return Pos{File: file, Line: line, Column: col}, true
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return Pos{}, false
}

func (c *converter) fail(n ast.Node, format string, args ...any) *node {
	if c.err == nil {
		c.err = &Error{Pos: position(c.file, n), Msg: fmt.Sprintf(format, args...)}
	}
	return &node{pos: position(c.file, n)}
}

func (c *converter) convert(n ast.Node) *node {
	if n == nil {
		return &node{kind: kNull, pos: Pos{File: c.file, Line: 1, Column: 1}}
	}
	if c.err != nil {
		return &node{pos: position(c.file, n)}
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return c.fail(n, "values nest more than %d deep", maxDepth)
	}
	if c.nodes++; c.nodes > maxNodes {
		return c.fail(n, "the scenario holds more than %d values (aliases count as often as they are used)", maxNodes)
	}
	out := &node{pos: position(c.file, n)}
	switch v := n.(type) {
	case *ast.NullNode:
		out.kind = kNull
	case *ast.BoolNode:
		out.kind, out.b = kBool, v.Value
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			out.kind, out.i = kInt, x
		case uint64:
			if x > math.MaxInt64 {
				return c.fail(n, "integer %d is too large", x)
			}
			out.kind, out.i = kInt, int64(x)
		default:
			return c.fail(n, "unreadable integer %v", v.Value)
		}
	case *ast.FloatNode:
		out.kind, out.f = kFloat, v.Value
	case *ast.InfinityNode:
		return c.fail(n, "infinity is not a value a scenario can use")
	case *ast.NanNode:
		return c.fail(n, "NaN is not a value a scenario can use")
	case *ast.StringNode:
		out.kind, out.s = kString, v.Value
	case *ast.LiteralNode:
		out.kind, out.s = kString, v.Value.Value
	case *ast.MappingNode:
		out.kind = kMap
		for _, mv := range v.Values {
			c.entry(out, mv)
		}
		if !v.IsFlowStyle && len(out.keys) > 0 {
			out.pos = out.keys[0].pos // a block mapping starts at its first key
		}
	case *ast.MappingValueNode:
		out.kind = kMap
		c.entry(out, v)
		if !v.IsFlowStyle && len(out.keys) > 0 {
			out.pos = out.keys[0].pos
		}
	case *ast.SequenceNode:
		out.kind = kList
		for _, e := range v.Values {
			out.list = append(out.list, c.convert(e))
		}
	case *ast.AnchorNode:
		val := c.convert(v.Value)
		if v.Name != nil {
			c.anchors[v.Name.GetToken().Value] = val
		}
		return val
	case *ast.AliasNode:
		name := ""
		if v.Value != nil {
			name = v.Value.GetToken().Value
		}
		val, ok := c.anchors[name]
		if !ok {
			return c.fail(n, "alias *%s names no anchor defined before it", name)
		}
		if c.nodes += val.size(); c.nodes > maxNodes {
			return c.fail(n, "the scenario holds more than %d values (aliases count as often as they are used)", maxNodes)
		}
		return val
	case *ast.TagNode:
		return c.convert(v.Value)
	default:
		return c.fail(n, "unsupported YAML construct (%s)", n.Type())
	}
	return out
}

// entry adds one key: value pair to m, rejecting keys that are not plain
// scalars and keys given twice (YAML forbids them; a typo'd copy would
// otherwise silently win).
func (c *converter) entry(m *node, mv *ast.MappingValueNode) {
	if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
		c.fail(mv.Key, "merge keys (<<) are not supported")
		return
	}
	k := c.convert(mv.Key)
	switch k.kind {
	case kString:
	case kInt, kFloat, kBool:
		k.s = k.scalarString()
	default:
		c.fail(mv.Key, "a key must be a plain string, not %s", k.kind)
		return
	}
	k.kind = kString
	for _, prev := range m.keys {
		if prev.s == k.s {
			c.fail(mv.Key, "key %q is given twice (first at line %d)", k.s, prev.pos.Line)
			return
		}
	}
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, c.convert(mv.Value))
}

// size counts the values in n, n included.
func (n *node) size() int {
	s := 1
	for _, k := range n.keys {
		s += k.size()
	}
	for _, v := range n.vals {
		s += v.size()
	}
	for _, e := range n.list {
		s += e.size()
	}
	return s
}
