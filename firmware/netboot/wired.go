package netboot

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SysClassNet is where Linux lists network interfaces.
const SysClassNet = "/sys/class/net"

// Wired returns the wired Ethernet interface a phone provisions on, from a
// /sys/class/net listing: an Ethernet device (ARP type 1) backed by
// hardware (a "device" link: not a bridge, tunnel or loopback) that is not
// wireless. eth0 comes first, then other eth*, then the rest by name, so a
// Pi 4's GENET or a Pi 3's LAN chip wins over a USB adapter (usb0, enx...),
// which a Zero 2 W has instead. It returns "" and what it saw when there is
// none yet: a USB adapter appears a few seconds after its driver loads.
func Wired(sysClassNet string) (string, error) {
	entries, err := os.ReadDir(sysClassNet)
	if err != nil {
		return "", fmt.Errorf("netboot: %w", err)
	}
	var wired, seen []string
	for _, e := range entries {
		name := e.Name()
		seen = append(seen, name)
		dir := filepath.Join(sysClassNet, name)
		typ, err := os.ReadFile(filepath.Join(dir, "type"))
		if err != nil || strings.TrimSpace(string(typ)) != "1" {
			continue
		}
		if !exists(filepath.Join(dir, "device")) || exists(filepath.Join(dir, "wireless")) || exists(filepath.Join(dir, "phy80211")) {
			continue
		}
		wired = append(wired, name)
	}
	if len(wired) == 0 {
		return "", fmt.Errorf("netboot: no wired Ethernet interface yet (interfaces: %s)", strings.Join(seen, " "))
	}
	sort.Slice(wired, func(i, j int) bool {
		ri, rj := rank(wired[i]), rank(wired[j])
		if ri != rj {
			return ri < rj
		}
		return wired[i] < wired[j]
	})
	return wired[0], nil
}

func rank(name string) int {
	switch {
	case name == "eth0":
		return 0
	case strings.HasPrefix(name, "eth"):
		return 1
	}
	return 2
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
