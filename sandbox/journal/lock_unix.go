//go:build unix

package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockName is the file in the data directory that one process holds
// locked while it uses the directory.
const LockName = "apsandbox.lock"

// lockDir takes the data directory for this process. Two sandboxes on one
// directory would each believe their own view of the world and overwrite
// each other's; the second is refused instead. The lock is an flock, so
// the kernel drops it when the process dies, however it dies.
func lockDir(dir string) (release func() error, err error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another apsandbox process; stop it or give this one another --data", dir)
		}
		return nil, fmt.Errorf("data directory %s: lock: %w", dir, err)
	}
	return f.Close, nil
}
