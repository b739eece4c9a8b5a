// Package netboot brings the phone's network up: loopback, the Ethernet
// interface, an IPv4 lease by DHCP (github.com/insomniacslk/dhcp's nclient4),
// the address and default route (github.com/vishvananda/netlink) and
// /etc/resolv.conf. The Lease says where provisioning comes from: the TFTP
// server (option 66, else option 150, else the BOOTP siaddr, else the DHCP
// server itself) and the boot file (option 67, else the BOOTP file field).
//
// Lease renewal is not done yet: the phone keeps its address after the lease
// time, which suits QEMU's user network and DHCP servers that hand out fixed
// leases, and no other.
package netboot
