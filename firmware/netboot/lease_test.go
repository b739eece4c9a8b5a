package netboot

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/firmware/provision"
	"github.com/insomniacslk/dhcp/dhcpv4"
)

var mac = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

func ack(t testing.TB, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	base := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithHwAddr(mac),
		dhcpv4.WithYourIP(net.IPv4(10, 0, 2, 15)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 2, 2))),
	}
	m, err := dhcpv4.New(append(base, mods...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLeaseFromACK(t *testing.T) {
	qemu := []dhcpv4.Modifier{ // what QEMU's user network sends
		dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
		dhcpv4.WithRouter(net.IPv4(10, 0, 2, 2)),
		dhcpv4.WithDNS(net.IPv4(10, 0, 2, 3)),
		dhcpv4.WithOption(dhcpv4.OptNTPServers(net.IPv4(10, 0, 2, 4), net.IPv4(10, 0, 2, 5))),
		dhcpv4.WithLeaseTime(86400),
		dhcpv4.WithServerIP(net.IPv4(10, 0, 2, 2)),
		dhcpv4.WithOption(dhcpv4.OptTFTPServerName("10.0.2.2")),
		func(d *dhcpv4.DHCPv4) { d.BootFileName = "phone.cfg" },
	}
	tests := []struct {
		name     string
		mods     []dhcpv4.Modifier
		tftp     string
		boot     string
		router   string
		mask     int
		leaseFor time.Duration
	}{
		{"qemu", qemu, "10.0.2.2", "phone.cfg", "10.0.2.2", 24, 24 * time.Hour},
		{"option 67 wins over file", append(qemu[:len(qemu):len(qemu)], dhcpv4.WithOption(dhcpv4.OptBootFileName("site.cfg"))), "10.0.2.2", "site.cfg", "10.0.2.2", 24, 24 * time.Hour},
		{"option 150", []dhcpv4.Modifier{dhcpv4.WithServerIP(net.IPv4(10, 0, 2, 9)),
			dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionTFTPServerAddress, []byte{192, 168, 1, 5, 192, 168, 1, 6}))},
			"192.168.1.5", "", "<nil>", 8, time.Hour},
		{"siaddr", []dhcpv4.Modifier{dhcpv4.WithServerIP(net.IPv4(10, 0, 2, 9)), dhcpv4.WithNetmask(net.CIDRMask(16, 32))}, "10.0.2.9", "", "<nil>", 16, time.Hour},
		{"server id", nil, "10.0.2.2", "", "<nil>", 8, time.Hour},
		{"host name in 66", []dhcpv4.Modifier{dhcpv4.WithOption(dhcpv4.OptTFTPServerName("tftp.example\x00"))}, "tftp.example", "", "<nil>", 8, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := leaseFromACK("eth0", mac, ack(t, tt.mods...))
			if err != nil {
				t.Fatal(err)
			}
			ones, _ := l.Addr.Mask.Size()
			if l.Server != tt.tftp || l.BootFile != tt.boot || l.Router.String() != tt.router ||
				ones != tt.mask || l.LeaseTime != tt.leaseFor || !l.Addr.IP.Equal(net.IPv4(10, 0, 2, 15)) ||
				!l.ServerID.Equal(net.IPv4(10, 0, 2, 2)) || l.Interface != "eth0" || l.MAC.String() != mac.String() {
				t.Errorf("lease %s", l)
			}
		})
	}
	l, _ := leaseFromACK("eth0", mac, ack(t, qemu...))
	if got := string(resolvConf(l)); !strings.HasSuffix(got, "\nnameserver 10.0.2.3\n") {
		t.Errorf("resolv.conf %q", got)
	}
	if len(l.NTP) != 2 || !l.NTP[0].Equal(net.IPv4(10, 0, 2, 4)) || !l.NTP[1].Equal(net.IPv4(10, 0, 2, 5)) {
		t.Errorf("option 42: NTP %v", l.NTP)
	}
	if s := l.String(); !strings.Contains(s, "addr 10.0.2.15/24 router 10.0.2.2") || !strings.Contains(s, `bootfile "phone.cfg"`) {
		t.Errorf("String() = %s", s)
	}
}

func TestLeaseFromACKErrors(t *testing.T) {
	if _, err := leaseFromACK("eth0", mac, nil); err == nil || !strings.HasPrefix(err.Error(), "netboot: ") {
		t.Errorf("nil ACK: %v", err)
	}
	if _, err := leaseFromACK("eth0", mac, ack(t, dhcpv4.WithYourIP(net.IPv4zero))); err == nil || !strings.Contains(err.Error(), "yiaddr") {
		t.Errorf("no address: %v", err)
	}
	if _, err := leaseFromACK("eth0", mac, ack(t, dhcpv4.WithOption(dhcpv4.OptSubnetMask(net.IPMask{0, 255, 0, 255})))); err == nil {
		t.Errorf("bad mask accepted")
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 16 * time.Second, 16 * time.Second}
	for i, w := range want {
		if got := backoff(i); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i, got, w)
		}
	}
	total := time.Duration(0)
	for i := 0; i < Attempts-1; i++ {
		total += backoff(i)
	}
	if total > time.Minute {
		t.Errorf("waits add up to %v", total)
	}
}

func FuzzLeaseFromACK(f *testing.F) {
	f.Add(ack(f, dhcpv4.WithNetmask(net.CIDRMask(24, 32)), dhcpv4.WithRouter(net.IPv4(10, 0, 2, 2)),
		dhcpv4.WithOption(dhcpv4.OptTFTPServerName("10.0.2.2"))).ToBytes())
	f.Add(ack(f, opt(160, []byte("tftp://prov.example/p/site.cfg")), opt(43, sub(66, []byte("10.4.4.4"), 241, []byte{10, 6, 6, 6}))).ToBytes())
	f.Add(ack(f, opt(43, []byte{66, 9, 'a'})).ToBytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		l, err := leaseFromACK("eth0", mac, m)
		if err != nil {
			return
		}
		if l.Addr.IP.To4() == nil || l.Addr.Mask == nil {
			t.Fatalf("lease without address: %s", l)
		}
		if (l.Server == "") != (l.ServerSource == "") {
			t.Fatalf("provisioning server and its source disagree: %s", l)
		}
		if l.Server != "" {
			if loc, ok := provision.ParseLocation(l.Scheme + "://" + l.Server); !ok || loc.Host != l.Server {
				t.Fatalf("bad provisioning server: %s", l)
			}
		}
		_ = l.String()
		_ = resolvConf(l)
	})
}
