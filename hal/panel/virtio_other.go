//go:build !linux

package panel

import "errors"

// OpenVirtio serves the panel on virtio-serial ports, which only Linux has.
func (s *Server) OpenVirtio() error {
	return errors.New("panel: virtio-serial ports need linux")
}
