// Package replay re-sends recorded vendor calls and compares each new
// answer with the recorded one: the status, and the JSON body compared
// semantically (member order, spacing and number spelling do not count),
// with ignore rules for the parts that differ on every call (ids,
// timestamps). It is how a vendor checks that a new build of its service
// still answers the platform the way the old one did.
package replay

import (
	"fmt"
	"strings"
)

// Pattern is an ignore rule: a JSON Pointer (RFC 6901) in which a segment
// may be "*" (any one member or index) or "**" (any number of segments,
// none included). A pattern ignores the value it points at and everything
// below it, so "/meta" ignores "/meta/updated_at" too.
type Pattern struct {
	raw      string
	segments []string
}

// ParsePattern parses one ignore rule.
func ParsePattern(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, fmt.Errorf("empty pattern; a JSON Pointer starts with /, e.g. /id")
	}
	if !strings.HasPrefix(s, "/") {
		return Pattern{}, fmt.Errorf("%q: a JSON Pointer starts with /, e.g. /%s", s, s)
	}
	segs, err := splitPointer(s)
	if err != nil {
		return Pattern{}, fmt.Errorf("%q: %v", s, err)
	}
	return Pattern{raw: s, segments: segs}, nil
}

// ParsePatterns parses ignore rules, naming the first bad one.
func ParsePatterns(ss []string) ([]Pattern, error) {
	out := make([]Pattern, 0, len(ss))
	for _, s := range ss {
		p, err := ParsePattern(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// String is the pattern as written.
func (p Pattern) String() string { return p.raw }

// Match reports whether the value at pointer, or one of its ancestors, is
// ignored by p. pointer is a JSON Pointer as the diff writes it.
func (p Pattern) Match(pointer string) bool {
	segs, err := splitPointer(pointer)
	if err != nil {
		return false
	}
	return matchPrefix(p.segments, segs)
}

// matchPrefix reports whether pat matches some prefix of segs (the whole
// of segs included).
func matchPrefix(pat, segs []string) bool {
	if len(pat) == 0 {
		return true
	}
	if pat[0] == "**" {
		// "**" eats zero or more segments.
		for i := 0; i <= len(segs); i++ {
			if matchPrefix(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	if pat[0] != "*" && pat[0] != segs[0] {
		return false
	}
	return matchPrefix(pat[1:], segs[1:])
}

// splitPointer splits a JSON Pointer into its unescaped segments; "" is
// the whole document, with no segments.
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("must start with /")
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(s, "~0", ""), "~1", ""), "~") {
			return nil, fmt.Errorf("segment %q: ~ must be written ~0, and / as ~1", s)
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}
