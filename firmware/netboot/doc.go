// Package netboot brings the phone's network up: loopback, the Ethernet
// interface, an IPv4 lease by DHCP (github.com/insomniacslk/dhcp's nclient4),
// the address and default route (github.com/vishvananda/netlink) and
// /etc/resolv.conf. The Lease says where provisioning comes from: the TFTP
// server and the boot file.
//
// The TFTP server is, in order: option 66 (TFTP server name: a host, an
// address or a tftp:// URL), option 150 (TFTP server addresses, Cisco),
// option 160 (provisioning server host or URL, Polycom and Yealink), option
// 43 (vendor-specific: encapsulated sub-option 66 as text, or 150 or 241 as
// IPv4 addresses; or, when it is not a list of sub-options, plain text
// read like option 66), the BOOTP siaddr, and last the DHCP server itself.
// An option this phone cannot use (an http:// URL, a malformed host) is
// skipped for the next one. A URL may name a folder (tftp://h/phones/: the
// files are fetched from there) and a file (tftp://h/phones/site.cfg: the
// common file, when option 67 names none). The phone sends VendorClass as
// option 60 so that a DHCP server can pick what it puts in option 43.
//
// The boot file is option 67, else the BOOTP file field, else a file named
// by a URL; the provisioning code defaults it to phone.cfg.
//
// Lease renewal is not done yet: the phone keeps its address after the lease
// time, which suits QEMU's user network and DHCP servers that hand out fixed
// leases, and no other.
package netboot
