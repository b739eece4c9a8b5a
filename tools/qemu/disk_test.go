package qemu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestDiskKeepsLastGoodConfig boots phoned twice on one disk image: the
// first boot stores the configuration it fetched on /dev/vda; the second,
// whose TFTP server now serves a broken file, boots from the stored one.
func TestDiskKeepsLastGoodConfig(t *testing.T) {
	if _, err := exec.LookPath(Binary); err != nil {
		t.Skipf("%s is not installed (apt-get install qemu-system-arm); skipping", Binary)
	}
	if testing.Short() {
		t.Skip("boots QEMU; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	kernel, err := KernelPath(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "phoned")
	if err := BuildPhoned(ctx, "../..", bin); err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(dir, "initrd.gz")
	f, err := os.Create(initrd)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteInitramfs(f, bin, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tftp := filepath.Join(dir, "tftp")
	os.Mkdir(tftp, 0o755)
	own := filepath.Join(tftp, "525400123457.cfg")
	os.WriteFile(filepath.Join(tftp, "phone.cfg"), []byte("line.1.registrar = 10.0.2.2:5\n"), 0o644)
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
