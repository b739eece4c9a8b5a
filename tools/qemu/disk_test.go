package qemu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDiskKeepsLastGoodConfig boots phoned twice on one disk image: the
// first boot stores the configuration it fetched on /dev/vda; the second,
// whose TFTP server now serves a broken file, boots from the stored one.
func TestDiskKeepsLastGoodConfig(t *testing.T) {
	ctx, kernel, initrd, dir := bootFiles(t, "./firmware/cmd/phoned", 4*time.Minute)
	tftp := filepath.Join(dir, "tftp")
	os.Mkdir(tftp, 0o755)
	own := filepath.Join(tftp, "525400123457.cfg")
	// No spread: the second boot fetches at once (provision.spread_seconds).
	os.WriteFile(filepath.Join(tftp, "phone.cfg"), []byte("line.1.registrar = 10.0.2.2:5\nprovision.spread_seconds = 0\n"), 0o644)
	os.WriteFile(own, []byte("line.1.user = 1001\n"), 0o644)
	disk := filepath.Join(dir, "phone.img")

	boot := func(want ...string) {
		t.Helper()
		con := newConsole()
		inst, err := Start(ctx, kernel, initrd, Phone{Name: "disk", MAC: "52:54:00:12:34:57", TFTPDir: tftp, Disk: disk, Console: con})
		if err != nil {
			t.Fatal(err)
		}
		defer inst.Stop()
		deadline := time.After(90 * time.Second)
		for _, w := range want {
			if !con.waitFor(w, deadline, inst.Done()) {
				t.Fatalf("console never showed %q; console:\n%s\nqemu stderr: %s", w, norm(con.String()), inst.Stderr())
			}
		}
		t.Logf("QEMU start to SIP up: %v", time.Since(inst.Started))
	}
	boot("provision: configuration stored (generation 1)", "SIP on")
	if fi, err := os.Stat(disk); err != nil || fi.Size() != DiskSize {
		t.Fatalf("disk image: %v %v", fi, err)
	}
	os.WriteFile(own, []byte("line.1.user = 1001\nsip.port = x\n"), 0o644)
	boot("525400123457.cfg:2: sip.port", "using the last good configuration from storage (generation 1", "SIP on")
}

// TestResyncAppliesNewConfig: phoned in QEMU fetches again after
// provision.resync_minutes, stores the changed file and, the phone being
// idle, restarts itself (as PID 1) to apply it.
func TestResyncAppliesNewConfig(t *testing.T) {
	ctx, kernel, initrd, dir := bootFiles(t, "./firmware/cmd/phoned", 4*time.Minute)
	tftp := filepath.Join(dir, "tftp")
	os.Mkdir(tftp, 0o755)
	own := filepath.Join(tftp, "525400123458.cfg")
	// No spread: the resync comes a minute in, and the restart fetches at once.
	os.WriteFile(filepath.Join(tftp, "phone.cfg"), []byte("line.1.registrar = 10.0.2.2:5\nprovision.resync_minutes = 1\nprovision.spread_seconds = 0\n"), 0o644)
	os.WriteFile(own, []byte("line.1.user = 1001\n"), 0o644)
	con := newConsole()
	inst, err := Start(ctx, kernel, initrd, Phone{Name: "resync", MAC: "52:54:00:12:34:58", TFTPDir: tftp, Disk: filepath.Join(dir, "phone.img"), Console: con})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Stop()
	deadline := time.After(150 * time.Second)
	if !con.waitFor("SIP on", deadline, inst.Done()) {
		t.Fatalf("no boot; console:\n%s", norm(con.String()))
	}
	os.WriteFile(own, []byte("line.1.user = 10002\n"), 0o644)
	if !waitInOrder(con, deadline, inst.Done(),
		"SIP on",
		"provision: new configuration from tftp://10.0.2.2: phone.cfg 88 bytes, 525400123458.cfg 20 bytes",
		"configuration stored (generation 2)",
		"applying the new configuration",
		"restarting to apply the new configuration",
		"deskphone dev on board qemu", // the second start, same PID 1
		"configuration from tftp://10.0.2.2: phone.cfg 88 bytes, 525400123458.cfg 20 bytes",
		"SIP on",
	) {
		t.Fatalf("console:\n%s", norm(con.String()))
	}
	mark := strings.LastIndex(norm(con.String()), "restarting to apply")
	t.Logf("console after the restart:\n%s", norm(con.String())[mark:])
}

// waitInOrder waits until the console shows each of wants, each after the
// one before.
func waitInOrder(c *console, deadline <-chan time.Time, done <-chan struct{}, wants ...string) bool {
	for {
		s, ok := norm(c.String()), true
		for _, w := range wants {
			i := strings.Index(s, w)
			if i < 0 {
				ok = false
				break
			}
			s = s[i+len(w):]
		}
		if ok {
			return true
		}
		select {
		case <-c.changed:
		case <-deadline:
			return false
		case <-done:
			return false
		}
	}
}
