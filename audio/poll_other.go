//go:build !linux

package audio

import (
	"net"
	"net/netip"
	"time"
)

// poller is Linux's; elsewhere Config.PollReceive falls back to a reader
// goroutine.
type poller struct {
	conn  *net.UDPConn
	buf   []byte
	n     int
	from  netip.AddrPort
	at    time.Time
	empty bool
}

func newPoller(*net.UDPConn) *poller { return nil }

func (p *poller) read() (bool, error)           { return false, nil }
func (p *poller) drained() bool                 { return true }
func (p *poller) setRemote(netip.AddrPort) bool { return false }
func (p *poller) sendTo([]byte) error           { return nil }
func (p *poller) mute()                         {}
func (p *poller) unmute()                       {}
