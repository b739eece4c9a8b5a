package netboot

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Lease is what DHCP gave the phone.
type Lease struct {
	Interface string
	MAC       net.HardwareAddr
	Addr      net.IPNet // the phone's address and mask
	Router    net.IP    // default gateway; nil when none was offered
	DNS       []net.IP
	NTP       []net.IP // option 42: NTP servers, in the order given
	// Server is the provisioning server's host or IP address, with :port
	// when a URL gave one: option 66, else 150, else 160, else 43, else
	// siaddr, else the DHCP server (ServerSource says which).
	Server       string
	ServerSource ServerSource
	// Scheme is how the files are fetched from Server: "tftp" (a bare host
	// or address, or a tftp:// URL), "http" or "https" (a URL said so).
	Scheme string
	// ConfigDir is the folder on the server the files are in, from a URL
	// or host/folder in options 66, 160 or 43; "" = the root.
	ConfigDir string
	// BootFile is option 67, else the BOOTP file field, else the file a
	// URL named.
	BootFile  string
	ServerID  net.IP
	LeaseTime time.Duration
}

func (l Lease) String() string {
	dns := make([]string, len(l.DNS))
	for i, d := range l.DNS {
		dns[i] = d.String()
	}
	ntp := make([]string, len(l.NTP))
	for i, n := range l.NTP {
		ntp[i] = n.String()
	}
	return fmt.Sprintf("%s %s addr %s router %s dns [%s] ntp [%s] provisioning %s://%s (%s) dir %q bootfile %q server %s lease %s",
		l.Interface, l.MAC, l.Addr.String(), l.Router, strings.Join(dns, " "), strings.Join(ntp, " "), l.Scheme, l.Server, l.ServerSource, l.ConfigDir, l.BootFile, l.ServerID, l.LeaseTime)
}

// defaultLease is assumed when the server gives no lease time.
const defaultLease = time.Hour

// leaseFromACK reads a Lease out of a DHCPACK.
func leaseFromACK(iface string, mac net.HardwareAddr, ack *dhcpv4.DHCPv4) (Lease, error) {
	if ack == nil {
		return Lease{}, errors.New("netboot: no DHCPACK")
	}
	ip := ack.YourIPAddr.To4()
	if ip == nil || ip.IsUnspecified() {
		return Lease{}, errors.New("netboot: DHCPACK without an address (yiaddr)")
	}
	mask := ack.SubnetMask()
	if mask == nil {
		mask = ip.DefaultMask()
	}
	if ones, bits := mask.Size(); bits != 32 || ones == 0 {
		return Lease{}, fmt.Errorf("netboot: bad subnet mask %s", net.IP(mask))
	}
	l := Lease{
		Interface: iface,
		MAC:       mac,
		Addr:      net.IPNet{IP: ip, Mask: mask},
		DNS:       ack.DNS(),
		NTP:       ack.NTPServers(),
		ServerID:  ack.ServerIdentifier(),
		LeaseTime: ack.IPAddressLeaseTime(defaultLease),
	}
	if r := ack.Router(); len(r) > 0 && r[0].To4() != nil && !r[0].IsUnspecified() {
		l.Router = r[0].To4()
	}
	ps, src := provisioningServer(ack, l.ServerID)
	l.Server, l.ServerSource, l.Scheme, l.ConfigDir = ps.Host, src, ps.Scheme, ps.Dir
	l.BootFile = strings.TrimRight(ack.BootFileNameOption(), "\x00")
	if l.BootFile == "" {
		l.BootFile = strings.TrimRight(ack.BootFileName, "\x00")
	}
	if l.BootFile == "" {
		l.BootFile = ps.File
	}
	return l, nil
}

// resolvConf is the /etc/resolv.conf for a lease.
func resolvConf(l Lease) []byte {
	var b strings.Builder
	b.WriteString("# written by the phone from its DHCP lease\n")
	for _, d := range l.DNS {
		fmt.Fprintf(&b, "nameserver %s\n", d)
	}
	return []byte(b.String())
}

// Attempts is how many DHCP exchanges Up tries before it gives up.
const Attempts = 6

// backoff is the wait before DHCP attempt n (0-based): 1 s doubling, at
// most 16 s.
func backoff(n int) time.Duration {
	return min(time.Second<<min(n, 4), 16*time.Second)
}
