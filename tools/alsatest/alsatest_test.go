package alsatest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/tools/qemu"
)

// kernelDir is where tools/setup/debian-kernel.sh leaves the kernel.
func kernelDir() string {
	if c := os.Getenv("DESKPHONE_CACHE"); c != "" {
		return filepath.Join(c, "debian-kernel")
	}
	c := os.Getenv("XDG_CACHE_HOME")
	if c == "" {
		h, _ := os.UserHomeDir()
		c = filepath.Join(h, ".cache")
	}
	return filepath.Join(c, "deskphone", "debian-kernel")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestALSALoopbackInQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	dir := kernelDir()
	kernel := filepath.Join(dir, "vmlinuz")
	load, err := os.ReadFile(filepath.Join(dir, "modules.load"))
	if err != nil {
		msg := "Debian's arm64 kernel is not in " + dir + ": run tools/setup/debian-kernel.sh (make deps does)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	initBin := filepath.Join(tmp, "init")
	if err := qemu.BuildArm64(ctx, "../..", "./tools/alsatest/alsainit", initBin); err != nil {
		t.Fatal(err)
	}
	extra := map[string][]byte{"modules/modules.load": load}
	for _, m := range strings.Fields(string(load)) {
		b, err := os.ReadFile(filepath.Join(dir, "modules", m))
		if err != nil {
			t.Fatal(err)
		}
		extra["modules/"+m] = b
	}
	initrd := filepath.Join(tmp, "initrd.gz")
	f, err := os.Create(initrd)
	if err != nil {
		t.Fatal(err)
	}
	if err := qemu.WriteInitramfs(f, initBin, extra); err != nil {
		t.Fatal(err)
	}
	f.Close()
	console := &syncBuffer{}
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
