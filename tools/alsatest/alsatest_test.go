package alsatest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/kmod"
	"github.com/deskphone/deskphone/tools/qemu"
)

func TestALSALoopbackInQEMU(t *testing.T) {
	testtool.Long(t, "make peers") // boots QEMU
	k, err := kmod.Open(kmod.Dir())
	if err != nil {
		testtool.Missing(t, "Debian's arm64 kernel package: %v", err)
	}
	kernel := filepath.Join(k.Dir, "vmlinuz")
	extra, err := k.Files([]string{"snd-aloop"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	initrd, err := qemu.BuildInitramfs(ctx, "../..", "./tools/alsatest/alsainit", t.TempDir(), extra)
	if err != nil {
		t.Fatal(err)
	}
	console := &qemu.Console{}
	inst, err := qemu.Start(ctx, kernel, initrd, qemu.Phone{
		Name: "alsatest", MAC: "52:54:00:12:34:a1", Console: console, MemoryMB: 512,
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	werr := inst.Wait()
	out := console.String()
	if testing.Verbose() || werr != nil || !strings.Contains(out, "ALSATEST DONE failures=0") {
		t.Logf("console:\n%s", out)
	}
	if werr != nil {
		t.Fatalf("QEMU: %v", werr)
	}
	if !strings.Contains(out, "ALSATEST DONE failures=0") {
		t.Fatal("the loopback check did not pass (console above)")
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "ALSATEST PASS") {
			t.Log(strings.TrimSpace(l))
		}
	}
	t.Logf("boot, 6 loopback runs and power off in %v", time.Since(start).Round(time.Millisecond))
}
