package netboot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNet makes a /sys/class/net with one folder per interface: its ARP
// type, and a device link or wireless folder as Linux has them.
func fakeNet(t *testing.T, ifaces map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, kind := range ifaces {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		typ := "1"
		switch kind {
		case "loopback":
			typ = "772"
		case "tunnel":
			typ = "65534"
		}
		if err := os.WriteFile(filepath.Join(dir, "type"), []byte(typ+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if kind == "hw" || kind == "wifi" {
			if err := os.Mkdir(filepath.Join(dir, "device"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if kind == "wifi" {
			if err := os.Mkdir(filepath.Join(dir, "wireless"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func TestWired(t *testing.T) {
	for _, c := range []struct {
		name   string
		ifaces map[string]string
		want   string
	}{
		{"qemu virt", map[string]string{"lo": "loopback", "eth0": "hw"}, "eth0"},
		{"pi 4 with a usb adapter too", map[string]string{"lo": "loopback", "usb0": "hw", "eth0": "hw", "wlan0": "wifi"}, "eth0"},
		{"eth1 before usb0", map[string]string{"usb0": "hw", "eth1": "hw"}, "eth1"},
		{"zero 2 w with a usb adapter", map[string]string{"lo": "loopback", "wlan0": "wifi", "usb0": "hw"}, "usb0"},
		{"bridge and tunnel are not wired", map[string]string{"br0": "virtual", "tun0": "tunnel", "enx00e04c680001": "hw"}, "enx00e04c680001"},
	} {
		got, err := Wired(fakeNet(t, c.ifaces))
		if err != nil || got != c.want {
			t.Errorf("%s: Wired = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	_, err := Wired(fakeNet(t, map[string]string{"lo": "loopback", "wlan0": "wifi"}))
	if err == nil || !strings.Contains(err.Error(), "lo wlan0") {
		t.Errorf("only loopback and wifi: %v; want an error listing them", err)
	}
	if _, err := Wired(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing /sys/class/net gave no error")
	}
}
