package panelclient

import (
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cavaliergopher/cpio"
	"github.com/deskphone/deskphone/internal/testtool"
)

// TestQEMUVirtio boots a tiny phone (testdata/guest) as the /init of an
// arm64 VM and drives its virtual panel over virtio-serial: the ready line,
// control lines both ways, audio both ways, a client that hangs up and
// comes straight back, and a phone that keeps its frame clock while nobody
// listens. It needs qemu-system-aarch64 and is skipped with -short.
func TestQEMUVirtio(t *testing.T) {
	testtool.Long(t, "make peers") // boots a VM
	qemu := testtool.Need(t, "qemu-system-aarch64")
	goBin := testtool.Go(t)
	kdir, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}", "github.com/gokrazy/kernel.arm64").Output()
	if err != nil || strings.TrimSpace(string(kdir)) == "" {
		testtool.Missing(t, "the kernel module github.com/gokrazy/kernel.arm64 is not downloaded (go mod download): %v", err)
	}
	kernel := filepath.Join(strings.TrimSpace(string(kdir)), "vmlinuz")
	dir := t.TempDir()

	initPath := filepath.Join(dir, "init")
	build := exec.Command(goBin, "build", "-o", initPath, "./testdata/guest")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build guest: %v\n%s", err, out)
	}
	initrd := filepath.Join(dir, "initrd.gz")
	writeInitrd(t, initPath, initrd)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sock := filepath.Join(dir, "p.sock")
	cmd := exec.CommandContext(ctx, qemu, "-M", "virt", "-cpu", "cortex-a57", "-m", "256",
		"-nographic", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyAMA0 quiet", "-nic", "none",
		"-device", "virtio-serial-device",
		"-chardev", "socket,id=pc,path="+sock+",server=on,wait=off",
		"-device", "virtserialport,chardev=pc,name=panel",
		"-chardev", "socket,id=pa,path="+sock+".audio,server=on,wait=off",
		"-device", "virtserialport,chardev=pa,name=panel.audio")
	var console strings.Builder
	cmd.Stdout, cmd.Stderr = &console, &console
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	vmCtx, vmGone := context.WithCancel(ctx)
	defer vmGone()
	go func() {
		cmd.Wait()
		vmGone() // no point waiting for a phone that is gone
		close(exited)
	}()
	defer func() {
		cancel()
		<-exited
		if t.Failed() || testing.Verbose() {
			t.Logf("console:\n%s", console.String())
		}
	}()

	c, err := Dial(vmCtx, "unix:"+sock)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ready() != "ready qemu guest panel/4" {
		t.Fatalf("ready %q", c.Ready())
	}
	wait := func(c *Client, re string) string {
		t.Helper()
		l, err := c.Wait(vmCtx, regexp.MustCompile(re))
		if err != nil {
			ls := c.Lines(0)
			t.Fatalf("%v; %d lines so far, first %q, last %q", err, len(ls), ls[:min(3, len(ls))], ls[max(0, len(ls)-3):])
		}
		return l
	}
	c.Send("hook off")
	wait(c, `^phone dialtone$`)
	c.Send("key bogus")
	wait(c, `^error bad key "bogus"$`)
	c.Send("key 5")
	wait(c, `^display 0 key 5$`)

	// Audio: a tone into the microphone comes back from the earpiece.
	pctx, stop := context.WithCancel(ctx)
	go c.PlayTone(pctx, 440, 10000)
	rec, err := c.Record(time.Second)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	loud := 0
	for _, v := range rec {
		if v > 5000 || v < -5000 {
			loud++
		}
	}
	if len(rec) < 4000 || loud < len(rec)/4 {
		t.Fatalf("recorded %d samples, %d loud: the echo did not come back", len(rec), loud)
	}

	// Hang up and come straight back: a new ready, and the phone is fine.
	c.Close()
	c, err = Dial(vmCtx, "unix:"+sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Send("hook on")
	wait(c, `^phone idle$`)
	f1 := frames(t, ctx, c)
	// Nobody reads the audio for a second: the frame clock runs on.
	time.Sleep(time.Second)
	f2 := frames(t, ctx, c)
	if f2-f1 < 25 || f2-f1 > 75 {
		t.Errorf("%d frames in a second with nobody listening, want about 50", f2-f1)
	}
	c.Send("key 0")
	wait(c, `^log bye$`)
	select {
	case <-exited:
	case <-ctx.Done():
		t.Fatal("the VM did not power off")
	}
}

func frames(t *testing.T, ctx context.Context, c *Client) int {
	t.Helper()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, f, ok := strings.Cut(st, "frames=")
	n, err := strconv.Atoi(f)
	if !ok || err != nil {
		t.Fatalf("status %q", st)
	}
	return n
}

func writeInitrd(t *testing.T, initPath, out string) {
	t.Helper()
	b, err := os.ReadFile(initPath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := gzip.NewWriter(f)
	w := cpio.NewWriter(z)
	if err := w.WriteHeader(&cpio.Header{Name: "init", Mode: 0o755, Size: int64(len(b))}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}
