//go:build !unix

package panel

import (
	"errors"
	"fmt"
)

// CreateShared: shared audio needs a unix system (shared_unix.go).
func CreateShared(string) (string, error) {
	return "", fmt.Errorf("panel: shared audio: %w", errors.ErrUnsupported)
}

// MapShared: see CreateShared.
func MapShared(string) (*SharedAudio, error) {
	return nil, fmt.Errorf("panel: shared audio: %w", errors.ErrUnsupported)
}

// Close: nothing is mapped here.
func (a *SharedAudio) Close() error { return nil }
