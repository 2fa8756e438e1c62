package main

// The image is FROM scratch: no CA bundle, no zoneinfo. A sandbox calling
// a vendor over https, or a scenario naming a time zone, must still work,
// so both travel in the binary. The fallback roots are used only when the
// system has none.
import (
	_ "time/tzdata"

	_ "golang.org/x/crypto/x509roots/fallback"
)
