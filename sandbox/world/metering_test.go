package world

import (
	"errors"
	"math"
	"strconv"
	"testing"
)

// TestPrice: units × unit price in minor units, exactly, rounded half
// away from zero, refusing what does not fit int64.
func TestPrice(t *testing.T) {
	tests := []struct {
		units     string
		unitPrice Money
		want      Money
		wantUnits string
		wantErr   error
	}{
		{"123.5", 4, 494, "123.5", nil},
		{"0.05", 10, 1, "0.05", nil},   // 0.5 rounds up
		{"0.04", 10, 0, "0.04", nil},   // 0.4 rounds down
		{"0.15", 10, 2, "0.15", nil},   // 1.5 → 2
		{"0.25", 10, 3, "0.25", nil},   // 2.5 → 3 (banker's rounding would give 2)
		{"0.1", 3, 0, "0.1", nil},      // 0.3
		{"0.1", 7, 1, "0.1", nil},      // 0.7
		{"1.5E1", 9, 135, "15", nil},   // exponent
		{"2.50", 100, 250, "2.5", nil}, // trailing zeros are not canonical
		{"0", 1_000_000, 0, "0", nil},
		{"-0", 5, 0, "0", nil},
		{"0.000000000000000001", 1, 0, "0.000000000000000001", nil},
		{"3", 0, 0, "3", nil},
		{"0.1", -15, -2, "0.1", nil}, // −1.5 → −2: away from zero
		{strconv.FormatInt(math.MaxInt64, 10), 1, math.MaxInt64, strconv.FormatInt(math.MaxInt64, 10), nil},
		{"9223372036854775807.5", 1, 0, "9223372036854775807.5", ErrOverflow}, // rounds to 2^63
		{"9223372036854775807.4", 1, math.MaxInt64, "9223372036854775807.4", nil},
		{"4611686018427387904", 2, 0, "4611686018427387904", ErrOverflow}, // 2^62 × 2 = 2^63
		{"9.3e17", 10, 0, "930000000000000000", ErrOverflow},
	}
	for _, tt := range tests {
		u, err := ParseUnits(tt.units)
		if err != nil {
			t.Errorf("ParseUnits(%s): %v", tt.units, err)
			continue
		}
		if got := FormatUnits(u); got != tt.wantUnits {
			t.Errorf("FormatUnits(%s) = %s, want %s", tt.units, got, tt.wantUnits)
		}
		got, err := Price(u, tt.unitPrice)
		if !errors.Is(err, tt.wantErr) || (err == nil && got != tt.want) {
			t.Errorf("Price(%s, %d) = %d, %v; want %d, %v", tt.units, tt.unitPrice, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestParseUnitsRefuses: what a vendor must not be able to make the
// platform charge, or compute.
func TestParseUnitsRefuses(t *testing.T) {
	for _, s := range []string{
		"-1", "-0.5", `"12"`, "12abc", "", "1.", ".5", "01", "+1", "NaN", "Infinity", "null", "true", "1e", "0x10",
		"1e41", "1e-41", "1e999999999", "1e+100",
		"12345678901234567890123456789012345678901", // 41 significant digits
	} {
		if u, err := ParseUnits(s); err == nil {
			t.Errorf("ParseUnits(%q) = %s, want an error", s, u.RatString())
		}
	}
	for _, s := range []string{"1e40", "1E-40", "0.0", "1e+2", "100000000000000000000000000000000000000000"} {
		if _, err := ParseUnits(s); err != nil {
			t.Errorf("ParseUnits(%q): %v", s, err)
		}
	}
}
