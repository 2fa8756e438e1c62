package world

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Metering is what a subscription learnt from the vendor's usage and
// consumption endpoints. It is embedded in Subscription, so its fields
// are the subscription's own in JSON and persist with it; every field is
// omitted until the first pull, so that worlds that never pulled marshal
// as they always did.
type Metering struct {
	// Usage is the amount in use per resource key, from the last
	// /subscription/usage answer.
	Usage          map[string]int64 `json:"usage,omitempty"`
	UsageUpdatedAt *time.Time       `json:"usage_updated_at,omitempty"`
	// Charges are the pay-as-you-go charges computed from consumption
	// pulls, oldest first. Writers assign a fresh slice, never append in
	// place, so that copies handed to readers never share a backing array
	// with the next pull.
	Charges []Charge `json:"charges,omitempty"`
	// ConsumedTo is the end of the last pulled consumption period: the
	// next pull starts there, so that no unit is charged twice.
	ConsumedTo *time.Time `json:"consumed_to,omitempty"`
}

// Charge is the price of the units of one resource consumed in one
// period, priced with the plan's unit price as the platform does for
// pay-as-you-go plans ("prices stay local", reference §4.8).
type Charge struct {
	Resource string `json:"resource"`
	// Units is the consumed amount exactly as a canonical decimal string
	// ("123.5"): vendors report fractional units, and a float would lose
	// what the amount is computed from.
	Units     string    `json:"units"`
	UnitPrice Money     `json:"unit_price"`
	Amount    Money     `json:"amount"`
	Currency  string    `json:"currency"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	// ExchangeID is the /subscription/consumption exchange the units came
	// from.
	ExchangeID int64 `json:"exchange_id"`
}

// Bounds of a decimal ParseUnits accepts. A JSON number may carry any
// exponent, and big.Rat would compute 10^exponent exactly: a vendor
// answering 1e999999999 must not make the sandbox allocate gigabytes.
const (
	maxUnitDigits   = 40
	maxUnitExponent = 40
)

// ParseUnits reads a consumed amount written as a JSON number ("123.5",
// "2", "1.5e3") exactly. It refuses negative amounts, anything that is
// not a JSON number, and numbers too long or too far from 1 to be a
// plausible count of units.
func ParseUnits(s string) (*big.Rat, error) {
	if !jsonNumber(s) {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	if strings.HasPrefix(s, "-") {
		if r, ok := new(big.Rat).SetString(s); ok && r.Sign() == 0 {
			return r.Abs(r), nil
		}
		return nil, fmt.Errorf("%s is negative", s)
	}
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	if len(strings.Trim(strings.Replace(mant, ".", "", 1), "0")) > maxUnitDigits {
		return nil, fmt.Errorf("%s has more than %d significant digits", s, maxUnitDigits)
	}
	if exp != "" {
		exp = strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0")
		if len(exp) > 2 || (exp != "" && atoi(exp) > maxUnitExponent) {
			return nil, fmt.Errorf("%s: exponent beyond ±%d", s, maxUnitExponent)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return r, nil
}

// FormatUnits writes r, a value ParseUnits returned, as the shortest
// exact decimal: "123.5", "2", "0.001". Such values always have a finite
// decimal expansion, since they were written as one.
func FormatUnits(r *big.Rat) string {
	for n := 0; n <= 2*maxUnitExponent+maxUnitDigits; n++ {
		scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)))
		if scaled.IsInt() {
			return r.FloatString(n)
		}
	}
	return r.FloatString(2*maxUnitExponent + maxUnitDigits)
}

// ErrOverflow says an amount does not fit the platform's int64 money.
var ErrOverflow = errors.New("the amount does not fit in a 64-bit integer of minor units")

// Price is units × the unit price, in minor units, rounded half away from
// zero: 0.5 of a cent is a cent, −0.5 is −1. It fails with ErrOverflow
// when the amount does not fit Money.
func Price(units *big.Rat, unitPrice Money) (Money, error) {
	amount := new(big.Rat).Mul(units, new(big.Rat).SetInt64(int64(unitPrice)))
	return roundHalfAway(amount)
}

// roundHalfAway rounds r to the nearest integer, halves away from zero.
func roundHalfAway(r *big.Rat) (Money, error) {
	num := new(big.Int).Abs(r.Num())
	den := r.Denom()
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Lsh(rem, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, ErrOverflow
	}
	return Money(q.Int64()), nil
}

// jsonNumber reports whether s is a number in JSON's grammar.
func jsonNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
