package netboot

import (
	"net"
	"net/url"
	"path"
	"strings"
	"unicode"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// DHCP options that name where provisioning comes from, beyond 66 and 150.
const (
	// OptionVendorSpecific (43) carries vendor sub-options (RFC 2132 8.4).
	OptionVendorSpecific = 43
	// OptionProvisioningURL (160) is a provisioning server host or URL
	// (Polycom, Yealink).
	OptionProvisioningURL = 160
)

// Sub-options of option 43 the phone reads. Sub-option 66 and 150 mirror
// the top-level options (as Polycom and Mitel phones read them); 241 is a
// list of IPv4 addresses (as Cisco equipment reads it).
const (
	subServerName = 66  // host, IPv4 address or tftp:// URL, text
	subServerAddr = 150 // one or more IPv4 addresses, 4 bytes each
	subCiscoAddr  = 241 // one or more IPv4 addresses, 4 bytes each
)

// ServerSource says which part of the DHCP answer named the TFTP server.
type ServerSource string

const (
	FromOption66  ServerSource = "option 66"
	FromOption150 ServerSource = "option 150"
	FromOption160 ServerSource = "option 160"
	FromOption43  ServerSource = "option 43"
	FromSiaddr    ServerSource = "siaddr"
	FromServerID  ServerSource = "DHCP server"
)

// provServer is a provisioning server named by an option.
type provServer struct {
	host string // host or IP, with :port when a URL gave one
	dir  string // folder on the server, "" = the root
	file string // common file named by a URL, "" = none
}

// serverFromText reads a host, IPv4 address or URL as options 66, 160
// and 43's sub-option 66 carry it: "10.0.0.5", "tftp.example",
// "tftp://10.0.0.5/phones/", "tftp://tftp.example:6969/phones/site.cfg".
// A URL of any scheme but tftp is not usable by this phone: ok is false.
func serverFromText(s string) (provServer, bool) {
	s = strings.TrimSpace(strings.TrimRight(s, "\x00"))
	if s == "" {
		return provServer{}, false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || unicode.IsControl(r) || r == ' ' {
			return provServer{}, false
		}
	}
	if !strings.Contains(s, "://") {
		// A bare host (or host:port), perhaps with a folder: "host/phones".
		host, dir, _ := strings.Cut(s, "/")
		if !validServerHost(host) {
			return provServer{}, false
		}
		return provServer{host: host, dir: cleanDir(dir)}, true
	}
	u, err := url.Parse(s)
	if err != nil || !strings.EqualFold(u.Scheme, "tftp") || !validServerHost(u.Host) {
		return provServer{}, false
	}
	p := strings.TrimPrefix(u.Path, "/")
	ps := provServer{host: u.Host}
	if p != "" && !strings.HasSuffix(p, "/") && strings.Contains(path.Base(p), ".") {
		// The URL names a file: it is the common file.
		ps.file = path.Base(p)
		p = path.Dir(p)
	}
	ps.dir = cleanDir(p)
	return ps, true
}

func cleanDir(d string) string {
	d = strings.Trim(path.Clean("/"+d), "/")
	if d == "." {
		return ""
	}
	return d
}

// validServerHost accepts an IP address or a DNS name, with an optional
// :port.
func validServerHost(h string) bool {
	if host, port, err := net.SplitHostPort(h); err == nil {
		if port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5 {
			return false
		}
		h = host
	}
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// firstIPv4 is the first usable address of a list of 4-byte addresses.
func firstIPv4(b []byte) (provServer, bool) {
	for ; len(b) >= 4; b = b[4:] {
		ip := net.IP(b[:4])
		if !ip.IsUnspecified() && !ip.Equal(net.IPv4bcast) {
			return provServer{host: ip.String()}, true
		}
	}
	return provServer{}, false
}

// serverFromVendor reads option 43. Encapsulated sub-options (code,
// length, value) are tried first: 66 (text), then 150 and 241 (IPv4
// addresses). A value that is not a well-formed list of sub-options but is
// printable text is read as a host or URL, as some servers send it.
func serverFromVendor(b []byte) (provServer, bool) {
	if subs, ok := subOptions(b); ok {
		if v, ok := subs[subServerName]; ok {
			if ps, ok := serverFromText(string(v)); ok {
				return ps, true
			}
		}
		for _, code := range []byte{subServerAddr, subCiscoAddr} {
			if ps, ok := firstIPv4(subs[code]); ok {
				return ps, true
			}
		}
		return provServer{}, false
	}
	return serverFromText(string(b))
}

// subOptions splits encapsulated vendor options; ok is false when b is not
// an exact sequence of them (pad 0 and end 255 allowed).
func subOptions(b []byte) (map[byte][]byte, bool) {
	m := make(map[byte][]byte)
	for len(b) > 0 {
		code := b[0]
		switch code {
		case 0:
			b = b[1:]
			continue
		case 255:
			return m, len(m) > 0
		}
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return nil, false
		}
		if _, dup := m[code]; !dup {
			m[code] = b[2 : 2+int(b[1])]
		}
		b = b[2+int(b[1]):]
	}
	return m, len(m) > 0
}

// provisioningServer picks the TFTP server out of an ACK, in order: option
// 66, option 150, option 160, option 43, siaddr, the server identifier.
// Options naming something this phone cannot use (an http:// URL, a
// malformed host) are skipped in favour of the next.
func provisioningServer(ack *dhcpv4.DHCPv4, serverID net.IP) (provServer, ServerSource) {
	if ps, ok := serverFromText(ack.TFTPServerName()); ok {
		return ps, FromOption66
	}
	if ps, ok := firstIPv4(ack.GetOneOption(dhcpv4.OptionTFTPServerAddress)); ok {
		return ps, FromOption150
	}
	if v := ack.GetOneOption(dhcpv4.GenericOptionCode(OptionProvisioningURL)); len(v) > 0 {
		if ps, ok := serverFromText(string(v)); ok {
			return ps, FromOption160
		}
	}
	if v := ack.GetOneOption(dhcpv4.OptionVendorSpecificInformation); len(v) > 0 {
		if ps, ok := serverFromVendor(v); ok {
			return ps, FromOption43
		}
	}
	if ack.ServerIPAddr != nil && ack.ServerIPAddr.To4() != nil && !ack.ServerIPAddr.IsUnspecified() {
		return provServer{host: ack.ServerIPAddr.String()}, FromSiaddr
	}
	if serverID != nil && !serverID.IsUnspecified() {
		return provServer{host: serverID.String()}, FromServerID
	}
	return provServer{}, ""
}

// VendorClass is the phone's DHCP vendor class identifier (option 60).
const VendorClass = "deskphone"
