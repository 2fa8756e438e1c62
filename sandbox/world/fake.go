package world

import (
	"encoding/hex"
	"math/rand"
	"strings"

	"github.com/brianvoe/gofakeit/v6/data"
)

// faker draws the world's names, addresses and codes: gofakeit's word lists
// (its data package) picked by one seeded math/rand source, with the draws
// gofakeit v6's Faker makes for the same calls. A seed therefore gives the
// world gofakeit.New(seed) gave, byte for byte, and recordings made with
// earlier versions still match (TestGenerateGolden).
//
// Why not gofakeit.New itself: importing gofakeit's root package runs an
// init that registers all of its generators, one of which lists methods by
// reflection (reflect.Value.Method with a computed index). A single such call
// anywhere turns off the linker's dead-method elimination for the whole
// binary: the sandbox's binary is 19.3 MB without such calls and 27.8 MB
// with this one (gin's validator had another; see operator/api/decode.go).
// The generator needs a dozen small draws; they are here, and
// cmd/apsandbox's TestNoReflectMethod keeps the binary free of such calls.
//
// A faker is not safe for concurrent use; each world has its own.
type faker struct {
	r *rand.Rand
}

// newFaker returns a faker for a non-zero seed.
func newFaker(seed int64) *faker {
	return &faker{r: rand.New(rand.NewSource(seed))}
}

const (
	lowerLetters = "abcdefghijklmnopqrstuvwxyz"
	upperLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	allLetters   = upperLetters + lowerLetters
	decimal      = "0123456789"
)

// number is a uniform integer in [lo, hi]. When lo == hi it draws nothing,
// as gofakeit does, which keeps later draws where they were. The range must
// fit in an int64.
func (f *faker) number(lo, hi int) int {
	if lo == hi {
		return lo
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo + int(f.r.Int63n(int64(hi-lo+1)))
}

// coin is true half the time.
func (f *faker) coin() bool { return f.number(0, 1) == 1 }

// oneOf picks one of choices; a single choice costs no draw.
func (f *faker) oneOf(choices []string) string {
	switch len(choices) {
	case 0:
		return ""
	case 1:
		return choices[0]
	}
	return choices[f.r.Intn(len(choices))]
}

// word picks one entry of a gofakeit word list, always drawing.
func (f *faker) word(list []string) string {
	return list[f.r.Intn(len(list))]
}

func (f *faker) firstName() string { return f.word(data.Person["first"]) }
func (f *faker) lastName() string  { return f.word(data.Person["last"]) }

// street is "123 North Fooville" or "123 Fooville".
func (f *faker) street() string {
	withPrefix := f.number(1, 2) == 1
	num := strings.TrimLeft(f.numerify(f.word(data.Address["number"])), "0")
	if withPrefix {
		prefix := f.word(data.Address["street_prefix"])
		return num + " " + prefix + " " + f.word(data.Address["street_name"]) + f.word(data.Address["street_suffix"])
	}
	return num + " " + f.word(data.Address["street_name"]) + f.word(data.Address["street_suffix"])
}

func (f *faker) digit() byte  { return decimal[f.r.Intn(len(decimal))] }
func (f *faker) letter() byte { return allLetters[f.r.Intn(len(allLetters))] }

// numerify replaces each '#' with a digit; a result starting with '0' gets
// a first digit of 1–8 instead.
func (f *faker) numerify(pattern string) string {
	if pattern == "" {
		return ""
	}
	b := []byte(pattern)
	for i, c := range b {
		if c == '#' {
			b[i] = f.digit()
		}
	}
	if b[0] == '0' {
		b[0] = byte('1' + f.r.Intn(8))
	}
	return string(b)
}

// lexify replaces each '?' with a letter of either case.
func (f *faker) lexify(pattern string) string {
	b := []byte(pattern)
	for i, c := range b {
		if c == '?' {
			b[i] = f.letter()
		}
	}
	return string(b)
}

// letters is n letters of either case; digits is n digits, a leading zero
// allowed.
func (f *faker) letters(n int) string { return f.repeat(n, f.letter) }
func (f *faker) digits(n int) string  { return f.repeat(n, f.digit) }

func (f *faker) repeat(n int, next func() byte) string {
	b := make([]byte, max(n, 1))
	for i := range b {
		b[i] = next()
	}
	return string(b)
}

// password is n (at least 5) letters and digits, weighted 4:4:3 between
// lower case, upper case and digits, then shuffled.
func (f *faker) password(n int) string {
	n = max(n, 5)
	classes := [...]struct {
		chars string
		upTo  float32 // cumulative weight
	}{{lowerLetters, 4}, {upperLetters, 8}, {decimal, 11}}
	const total = 11
	b := make([]byte, n)
	for i := range b {
		x := f.r.Float32() * total
		k := 0
		for k < len(classes)-1 && x > classes[k].upTo {
			k++
		}
		chars := classes[k].chars
		b[i] = chars[f.r.Int63()%int64(len(chars))]
	}
	for i := range b {
		j := f.r.Intn(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// uuid is a version-4 UUID made of sixteen draws.
func (f *faker) uuid() string {
	var u [16]byte
	for i := range u {
		u[i] = byte(f.r.Intn(256))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0xbf | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
