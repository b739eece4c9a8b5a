package netboot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
)

// Up brings loopback and iface (Wired's choice when "") up, gets a lease by DHCP (Attempts tries
// with backoff, each bounded; ctx bounds the whole), sets the address and
// default route, and writes /etc/resolv.conf. Renewal is not done.
func Up(ctx context.Context, iface string, logf func(string, ...any)) (Lease, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return Lease{}, fmt.Errorf("netboot: loopback: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return Lease{}, fmt.Errorf("netboot: loopback up: %w", err)
	}
	if iface == "" {
		if iface, err = Wired(SysClassNet); err != nil {
			return Lease{}, err
		}
	}
	link, err := netlink.LinkByName(iface)
	if err != nil {
		return Lease{}, fmt.Errorf("netboot: %s: %w", iface, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return Lease{}, fmt.Errorf("netboot: %s up: %w", iface, err)
	}
	mac := link.Attrs().HardwareAddr
	logf("netboot: %s up, MAC %s", iface, mac)

	var ack *dhcpv4.DHCPv4
	for attempt := 0; ack == nil; attempt++ {
		ack, err = dhcpOnce(ctx, iface)
		if err == nil {
			break
		}
		if attempt+1 >= Attempts {
			return Lease{}, fmt.Errorf("netboot: DHCP on %s: %d attempts failed, last: %w", iface, Attempts, err)
		}
		wait := backoff(attempt)
		logf("netboot: DHCP attempt %d on %s failed: %v; again in %s", attempt+1, iface, err, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Lease{}, fmt.Errorf("netboot: DHCP on %s: %w", iface, ctx.Err())
		case <-t.C:
		}
	}
	l, err := leaseFromACK(iface, mac, ack)
	if err != nil {
		return Lease{}, err
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: l.Addr.IP, Mask: l.Addr.Mask}}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return Lease{}, fmt.Errorf("netboot: address %s on %s: %w", addr.IPNet, iface, err)
	}
	if l.Router != nil {
		route := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: l.Router,
			Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}}
		if err := netlink.RouteReplace(route); err != nil {
			return Lease{}, fmt.Errorf("netboot: default route via %s: %w", l.Router, err)
		}
	} else {
		logf("netboot: no router offered; no default route")
	}
	if err := writeResolvConf("/etc", l); err != nil {
		logf("netboot: %v; carrying on without name servers", err)
	}
	logf("netboot: lease %s", l)
	return l, nil
}

func dhcpOnce(ctx context.Context, iface string) (*dhcpv4.DHCPv4, error) {
	c, err := nclient4.New(iface, nclient4.WithTimeout(2*time.Second), nclient4.WithRetry(2))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lease, err := c.Request(actx, dhcpv4.WithRequestedOptions(
		dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter, dhcpv4.OptionDomainNameServer, dhcpv4.OptionNTPServers,
		dhcpv4.OptionTFTPServerName, dhcpv4.OptionBootfileName, dhcpv4.OptionTFTPServerAddress,
		dhcpv4.OptionVendorSpecificInformation, dhcpv4.GenericOptionCode(OptionProvisioningURL)),
		// The vendor class lets a DHCP server pick option 43's contents.
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier(VendorClass)))
	if err != nil {
		return nil, err
	}
	if lease.ACK == nil {
		return nil, errors.New("no DHCPACK")
	}
	return lease.ACK, nil
}

func writeResolvConf(dir string, l Lease) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("netboot: resolv.conf: %w", err)
	}
	if err := os.WriteFile(dir+"/resolv.conf", resolvConf(l), 0o644); err != nil {
		return fmt.Errorf("netboot: resolv.conf: %w", err)
	}
	return nil
}
