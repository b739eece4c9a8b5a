//go:build !linux

package boot

import (
	"errors"
	"fmt"
)

// loadModule is Linux only.
func loadModule(path string) error {
	return fmt.Errorf("boot: load %s: %w", path, errors.ErrUnsupported)
}
