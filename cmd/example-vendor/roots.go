package main

// As for apsandbox: the image has no CA bundle or zoneinfo of its own.
import (
	_ "time/tzdata"

	_ "golang.org/x/crypto/x509roots/fallback"
)
