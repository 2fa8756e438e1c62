//go:build !unix

package journal

// LockName is the file in the data directory that one process holds
// locked while it uses the directory.
const LockName = "apsandbox.lock"

// lockDir does not lock where flock does not exist; the sandbox ships
// for Linux, and development elsewhere runs one sandbox at a time.
func lockDir(string) (func() error, error) { return func() error { return nil }, nil }
