package vendorapi

import "bytes"

// ProbeKey and ProbeValue are the unknown member InjectExtraFields adds.
// The platform's payloads grow over releases (seed 000/001 add fields),
// so a vendor must ignore members it does not know; the probe shows
// whether it does.
const (
	ProbeKey   = "x_apsandbox_probe"
	ProbeValue = "ignore me"
)

// dataMaps are members whose object value is a map of the platform's
// attributes (reference §3.7), not a record with a schema: a key added
// there is an extra attribute, which a vendor may rightly act on or
// refuse (order attribute validation refuses undefined ones), not an
// unknown field. The probe leaves them alone.
var dataMaps = map[string]bool{"attributes": true, "core_attributes": true}

// InjectExtraFields returns body with the probe member added first in
// the top-level object and in every nested object (inside arrays too),
// except the attribute maps named by dataMaps. Everything else is kept
// byte for byte, member order included, so the body still reads like the
// one without faults. body must be valid JSON; anything that is not an
// object is returned with its nested objects probed.
func InjectExtraFields(body []byte) []byte {
	probe := []byte(`"` + ProbeKey + `":"` + ProbeValue + `"`)
	out := make([]byte, 0, len(body)+len(probe)*8)
	var (
		inString, escaped bool
		strStart          int
		lastString        []byte // the last string closed, raw, without quotes
		key               []byte // the member name an upcoming value belongs to
	)
	for i := 0; i < len(body); i++ {
		c := body[i]
		out = append(out, c)
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				lastString = body[strStart:i]
			}
			continue
		}
		switch c {
		case '"':
			inString, strStart = true, i+1
		case ':':
			key = lastString
		case ',', '[', '}', ']':
			key = nil
		case '{':
			skip := key != nil && dataMaps[string(key)]
			key = nil
			if skip {
				continue
			}
			out = append(out, probe...)
			if next := nextNonSpace(body, i+1); next != '}' {
				out = append(out, ',')
			}
		}
	}
	return out
}

// nextNonSpace is the first byte of b from i on that is not JSON
// whitespace, 0 at the end.
func nextNonSpace(b []byte, i int) byte {
	rest := bytes.TrimLeft(b[i:], " \t\r\n")
	if len(rest) == 0 {
		return 0
	}
	return rest[0]
}
