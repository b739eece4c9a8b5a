//go:build !linux

package netboot

import (
	"context"
	"errors"
	"fmt"
)

// Up is Linux only.
func Up(ctx context.Context, iface string, logf func(string, ...any)) (Lease, error) {
	return Lease{}, fmt.Errorf("netboot: %w", errors.ErrUnsupported)
}
