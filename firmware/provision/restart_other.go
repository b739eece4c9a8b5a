//go:build !unix

package provision

import "errors"

// Restart is not available here: restart phoned by hand to apply a new
// configuration.
func Restart() error {
	return errors.New("provision: restart is not supported on this OS; restart phoned to apply the new configuration")
}
