package resolve

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Transport is a SIP transport (RFC 3261 section 18) as a resolved target
// names it. The zero value is no transport.
type Transport uint8

const (
	UDP Transport = iota + 1
	TCP
	TLS // TLS over TCP: what a sips URI and the SIPS+D2T service mean
)

var transportNames = [...]string{"", "udp", "tcp", "tls"}

// String returns the transport as a URI's transport parameter names it:
// "udp", "tcp" or "tls".
func (t Transport) String() string {
	if int(t) < len(transportNames) && t != 0 {
		return transportNames[t]
	}
	return "Transport(" + strconv.Itoa(int(t)) + ")"
}

// Via returns the transport as a Via header names it: "UDP", "TCP", "TLS".
func (t Transport) Via() string { return strings.ToUpper(t.String()) }

// ParseTransport parses a transport parameter value ("udp", "tcp", "tls";
// case-insensitive).
func ParseTransport(s string) (Transport, error) {
	switch {
	case strings.EqualFold(s, "udp"):
		return UDP, nil
	case strings.EqualFold(s, "tcp"):
		return TCP, nil
	case strings.EqualFold(s, "tls"):
		return TLS, nil
	}
	return 0, fmt.Errorf("%w: %.20q", ErrTransport, s)
}

func (t Transport) valid() bool { return t >= UDP && t <= TLS }

// DefaultPort is the port a transport uses when neither the URI nor an SRV
// record gives one (RFC 3263 section 4.2): 5061 for TLS, 5060 otherwise.
func (t Transport) DefaultPort() uint16 {
	if t == TLS {
		return 5061
	}
	return 5060
}

// Target is one next hop: where to send a request and over what.
type Target struct {
	Transport Transport
	Addr      netip.AddrPort
	// ServerName is the host name the peer was found under: the SRV
	// target when SRV records were used, else the URI's host (or maddr).
	// A TLS client that checks names the RFC 5922 way (section 4) checks
	// the URI's domain instead, which the caller has.
	ServerName string
}

// UDPAddr returns the address as a *net.UDPAddr (allocates).
func (t Target) UDPAddr() *net.UDPAddr { return net.UDPAddrFromAddrPort(t.Addr) }

// String returns "udp 192.0.2.1:5060 (sip1.example.com)".
func (t Target) String() string {
	s := t.Transport.String() + " " + t.Addr.String()
	if t.ServerName != "" {
		s += " (" + t.ServerName + ")"
	}
	return s
}
