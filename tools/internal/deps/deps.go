// Package deps pins the modules the project builds on while the packages that
// use them are being written. It is removed once every module has a user.
package deps

import (
	_ "github.com/cavaliergopher/cpio"
	_ "github.com/gokrazy/kernel.arm64"
	_ "github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	_ "github.com/pion/rtp"
	_ "github.com/vishvananda/netlink"
	_ "github.com/zaf/g711"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
)
