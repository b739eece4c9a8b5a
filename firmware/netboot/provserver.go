package netboot

import (
	"net"

	"github.com/deskphone/deskphone/firmware/provision"
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
	subServerName = 66  // host, IPv4 address or URL, text (provision.ParseLocation)
	subServerAddr = 150 // one or more IPv4 addresses, 4 bytes each
	subCiscoAddr  = 241 // one or more IPv4 addresses, 4 bytes each
)

// ServerSource says which part of the DHCP answer named the provisioning
// server.
type ServerSource string

const (
	FromOption66  ServerSource = "option 66"
	FromOption150 ServerSource = "option 150"
	FromOption160 ServerSource = "option 160"
	FromOption43  ServerSource = "option 43"
	FromSiaddr    ServerSource = "siaddr"
	FromServerID  ServerSource = "DHCP server"
)

// firstIPv4 is the first usable address of a list of 4-byte addresses.
func firstIPv4(b []byte) (provision.Location, bool) {
	for ; len(b) >= 4; b = b[4:] {
		ip := net.IP(b[:4])
		if !ip.IsUnspecified() && !ip.Equal(net.IPv4bcast) {
			return tftpAt(ip), true
		}
	}
	return provision.Location{}, false
}

func tftpAt(ip net.IP) provision.Location {
	return provision.Location{Scheme: "tftp", Host: ip.String()}
}

// serverFromVendor reads option 43. Encapsulated sub-options (code,
// length, value) are tried first: 66 (text), then 150 and 241 (IPv4
// addresses). A value that is not a well-formed list of sub-options but is
// printable text is read as a host or URL, as some servers send it.
func serverFromVendor(b []byte) (provision.Location, bool) {
	if subs, ok := subOptions(b); ok {
		if v, ok := subs[subServerName]; ok {
			if ps, ok := provision.ParseLocation(string(v)); ok {
				return ps, true
			}
		}
		for _, code := range []byte{subServerAddr, subCiscoAddr} {
			if ps, ok := firstIPv4(subs[code]); ok {
				return ps, true
			}
		}
		return provision.Location{}, false
	}
	return provision.ParseLocation(string(b))
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

// provisioningServer picks the provisioning server out of an ACK, in
// order: option 66, option 150, option 160, option 43, siaddr, the server
// identifier. A bare host or address is TFTP; a tftp://, http:// or
// https:// URL says its scheme. Options naming something this phone cannot
// use (another scheme, a malformed host) are skipped in favour of the next.
func provisioningServer(ack *dhcpv4.DHCPv4, serverID net.IP) (provision.Location, ServerSource) {
	if ps, ok := provision.ParseLocation(ack.TFTPServerName()); ok {
		return ps, FromOption66
	}
	if ps, ok := firstIPv4(ack.GetOneOption(dhcpv4.OptionTFTPServerAddress)); ok {
		return ps, FromOption150
	}
	if v := ack.GetOneOption(dhcpv4.GenericOptionCode(OptionProvisioningURL)); len(v) > 0 {
		if ps, ok := provision.ParseLocation(string(v)); ok {
			return ps, FromOption160
		}
	}
	if v := ack.GetOneOption(dhcpv4.OptionVendorSpecificInformation); len(v) > 0 {
		if ps, ok := serverFromVendor(v); ok {
			return ps, FromOption43
		}
	}
	if ack.ServerIPAddr != nil && ack.ServerIPAddr.To4() != nil && !ack.ServerIPAddr.IsUnspecified() {
		return tftpAt(ack.ServerIPAddr), FromSiaddr
	}
	if serverID != nil && !serverID.IsUnspecified() {
		return tftpAt(serverID), FromServerID
	}
	return provision.Location{}, ""
}

// VendorClass is the phone's DHCP vendor class identifier (option 60).
const VendorClass = "deskphone"
