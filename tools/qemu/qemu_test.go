package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

func TestArgs(t *testing.T) {
	dir := t.TempDir()
	sd512, sdOdd := filepath.Join(dir, "sd,512.img"), filepath.Join(dir, "odd.img")
	for f, n := range map[string]int64{sd512: 512 << 20, sdOdd: 276 << 20} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(f, n); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		p       Phone
		has     []string // substrings of the joined command line
		hasNot  []string
		wantErr string
	}{
		{name: "minimal", p: Phone{Name: "a", MAC: "52:54:00:00:00:01"},
			has: []string{"-M virt", "-cpu cortex-a57", "-m 256", "-nographic", "-no-reboot", "-netdev user,id=net0 ",
				"-device virtio-net-device,netdev=net0,mac=52:54:00:00:00:01", "-device virtio-serial-device", "console=ttyAMA0"},
			hasNot: []string{"tftp=", "hostfwd", "virtserialport", "-drive"}},
		{name: "full", p: Phone{Name: "a", MAC: "52:54:00:AB:00:01", TFTPDir: dir, SIPPort: 15060, RTPMin: 20000, RTPMax: 20002,
			Panel: "unix:/tmp/x/p.sock", MemoryMB: 128, Append: "phone.debug=1"},
			has: []string{"tftp=" + dir + ",bootfile=phone.cfg,tftp-server-name=10.0.2.2",
				"hostfwd=udp:127.0.0.1:15060-:15060", "hostfwd=udp:127.0.0.1:20000-:20000", "hostfwd=udp:127.0.0.1:20002-:20002",
				"-chardev socket,id=panel,path=/tmp/x/p.sock,server=on,wait=off", "virtserialport,chardev=panel,name=panel ",
				"-chardev socket,id=panelaudio,path=/tmp/x/p.sock.audio,server=on,wait=off", "virtserialport,chardev=panelaudio,name=panel.audio",
				"-m 128", "mac=52:54:00:ab:00:01", "quiet panic=-1 phone.debug=1"},
			hasNot: []string{"20003"}},
		{name: "tcp panel", p: Phone{MAC: "52:54:00:00:00:01", Panel: "tcp:127.0.0.1:7000", BootFile: "site.cfg"},
			has: []string{"socket,id=panel,host=127.0.0.1,port=7000,server=on,wait=off", "socket,id=panelaudio,host=127.0.0.1,port=7001,server=on,wait=off"}},
		{name: "web", p: Phone{MAC: "52:54:00:00:00:01", WebPort: 18443},
			has: []string{"hostfwd=tcp:127.0.0.1:18443-:443"}},
		{name: "web on another guest port", p: Phone{MAC: "52:54:00:00:00:01", WebPort: 18080, WebGuestPort: 8080},
			has: []string{"hostfwd=tcp:127.0.0.1:18080-:8080"}},
		{name: "bad web port", p: Phone{MAC: "52:54:00:00:00:01", WebPort: 70000}, wantErr: "bad web port"},
		{name: "disk", p: Phone{MAC: "52:54:00:00:00:01", Disk: "/tmp/a,b.img"},
			has: []string{"-drive file=/tmp/a,,b.img,format=raw,if=none,id=disk0", "-device virtio-blk-device,drive=disk0"}},
		{name: "raspi3b", p: Phone{Name: "pi", MAC: "52:54:00:00:00:02", Machine: "raspi3b", DTB: "/d/bcm2837-rpi-3-b.dtb", SD: sd512, SIPPort: 15060},
			has: []string{"-M raspi3b", "-serial null -serial stdio", "-dtb /d/bcm2837-rpi-3-b.dtb", "console=ttyS1,115200",
				"-device usb-net,netdev=net0,mac=52:54:00:00:00:02", "-drive file=" + strings.ReplaceAll(sd512, ",", ",,") + ",format=raw,if=sd", "hostfwd=udp:127.0.0.1:15060-:15060"},
			hasNot: []string{"virtio", "-M virt", "-nographic"}},
		{name: "raspi3b without dtb", p: Phone{MAC: "52:54:00:00:00:02", Machine: "raspi3b"}, wantErr: "device tree"},
		{name: "raspi3b with panel", p: Phone{MAC: "52:54:00:00:00:02", Machine: "raspi3b", DTB: "/d", Panel: "unix:/tmp/p"}, wantErr: "no virtio panel"},
		{name: "raspi3b sd not a power of two", p: Phone{MAC: "52:54:00:00:00:02", Machine: "raspi3b", DTB: "/d", SD: sdOdd}, wantErr: "power of two"},
		{name: "raspi3b memory", p: Phone{MAC: "52:54:00:00:00:02", Machine: "raspi3b", DTB: "/d", MemoryMB: 512}, wantErr: "1024 MB"},
		{name: "unknown machine", p: Phone{MAC: "52:54:00:00:00:02", Machine: "raspi5"}, wantErr: "want virt or raspi3b"},
		{name: "bad mac", p: Phone{MAC: "nope"}, wantErr: "bad MAC"},
		{name: "multicast mac", p: Phone{MAC: "53:54:00:00:00:01"}, wantErr: "multicast"},
		{name: "missing tftp dir", p: Phone{MAC: "52:54:00:00:00:01", TFTPDir: filepath.Join(dir, "nope")}, wantErr: "TFTP dir"},
		{name: "range too big", p: Phone{MAC: "52:54:00:00:00:01", RTPMin: 10000, RTPMax: 10999}, wantErr: "bad RTP range"},
		{name: "range upside down", p: Phone{MAC: "52:54:00:00:00:01", RTPMin: 10010, RTPMax: 10000}, wantErr: "bad RTP range"},
		{name: "sip in range", p: Phone{MAC: "52:54:00:00:00:01", SIPPort: 10001, RTPMin: 10000, RTPMax: 10009}, wantErr: "inside the RTP range"},
		{name: "panel not loopback", p: Phone{MAC: "52:54:00:00:00:01", Panel: "tcp:0.0.0.0:7000"}, wantErr: "loopback"},
		{name: "panel bad form", p: Phone{MAC: "52:54:00:00:00:01", Panel: "/tmp/p.sock"}, wantErr: "want unix:PATH"},
		{name: "bad boot file", p: Phone{MAC: "52:54:00:00:00:01", BootFile: "a,b"}, wantErr: "bad boot file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := tt.p.Args("/k/vmlinuz", "/i/initrd.gz")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "qemu: ") {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			line := strings.Join(args, " ") + " "
			for _, h := range tt.has {
				if !strings.Contains(line, h) {
					t.Errorf("command line lacks %q:\n%s", h, line)
				}
			}
			for _, h := range tt.hasNot {
				if strings.Contains(line, h) {
					t.Errorf("command line has %q:\n%s", h, line)
				}
			}
		})
	}
	if got := escape("/a,b/c"); got != "/a,,b/c" {
		t.Errorf("escape = %q", got)
	}
}

func TestWriteInitramfs(t *testing.T) {
	dir := t.TempDir()
	initPath := filepath.Join(dir, "init")
	if err := os.WriteFile(initPath, []byte("\x7fELF fake"), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	extra := map[string][]byte{"etc/phone.cfg": []byte("sip.port = 5060\n"), "/usr/share/x/y": []byte("y")}
	if err := WriteInitramfs(&buf, initPath, extra); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadInitramfs(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var order []string
	for _, e := range entries {
		kind := "file"
		if e.IsDir() {
			kind = "dir"
		}
		got[e.Name] = fmt.Sprintf("%s:%04o:%s", kind, e.Mode&0o7777, e.Body)
		order = append(order, e.Name)
	}
	want := map[string]string{
		"dev": "dir:0755:", "proc": "dir:0755:", "sys": "dir:0755:", "run": "dir:0755:",
		"etc": "dir:0755:", "tmp": "dir:1777:", "usr": "dir:0755:", "usr/share": "dir:0755:",
		"usr/share/x": "dir:0755:", "init": "file:0755:\x7fELF fake",
		"etc/phone.cfg": "file:0644:sip.port = 5060\n", "usr/share/x/y": "file:0644:y",
	}
	if len(got) != len(want) {
		t.Errorf("entries %v", order)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if err := WriteInitramfs(io.Discard, filepath.Join(dir, "missing"), nil); err == nil {
		t.Error("missing init accepted")
	}
	if err := WriteInitramfs(io.Discard, initPath, map[string][]byte{"/init": nil}); err == nil {
		t.Error("second /init accepted")
	}
}

// console collects the guest's console and lets the test wait for text.
type console struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
	times   map[string]time.Time // first time each awaited marker was seen
}

func newConsole() *console {
	return &console{changed: make(chan struct{}, 1), times: map[string]time.Time{}}
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// waitFor waits until the console shows s, until deadline or done closes.
func (c *console) waitFor(s string, deadline <-chan time.Time, done <-chan struct{}) bool {
	for {
		if strings.Contains(norm(c.String()), s) {
			return true
		}
		select {
		case <-c.changed:
		case <-deadline:
			return false
		case <-done:
			return strings.Contains(norm(c.String()), s)
		}
	}
}

// bootFiles skips the test without QEMU or in -short mode (it boots a
// guest), then builds pkg as /init of an initramfs in a fresh folder, beside
// the pinned kernel. ctx ends after timeout.
func bootFiles(t *testing.T, pkg string, timeout time.Duration) (ctx context.Context, kernel, initrd, dir string) {
	t.Helper()
	testtool.Long(t, "make peers")
	testtool.Need(t, Binary) // Debian package qemu-system-arm
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	kernel, err := KernelPath(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if initrd, err = BuildInitramfs(ctx, "../..", pkg, dir, nil); err != nil {
		t.Fatal(err)
	}
	return ctx, kernel, initrd, dir
}

func TestBootProbe(t *testing.T) {
	ctx, kernel, initrd, dir := bootFiles(t, "./tools/qemu/internal/bootprobe", 3*time.Minute)
	tftp := filepath.Join(dir, "tftp")
	common := "# common\nline.1.registrar = 10.0.2.2:5060\n"
	own := "line.1.user = 1001\nnat.public_address = 10.0.2.2\n"
	os.Mkdir(tftp, 0o755)
	os.WriteFile(filepath.Join(tftp, "site.cfg"), []byte(common), 0o644)
	os.WriteFile(filepath.Join(tftp, "525400123456.cfg"), []byte(own), 0o644)

	sipPort, rtpMin := testtool.Port(t), testtool.EvenPorts(t, 10) // forwarded by QEMU, held for the test
	con := newConsole()
	inst, err := Start(ctx, kernel, initrd, Phone{
		Name: "probe", MAC: "52:54:00:12:34:56", TFTPDir: tftp, BootFile: "site.cfg",
		Panel: "unix:" + filepath.Join(dir, "p.sock"), Console: con,
		SIPPort: sipPort, RTPMin: rtpMin, RTPMax: rtpMin + 9,
		Append: fmt.Sprintf("bootprobe.echo=%d,%d,%d", sipPort, rtpMin, rtpMin+9),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Stop()
	deadline := time.After(90 * time.Second)
	for _, want := range []string{
		"boot: mounted devtmpfs on /dev",
		"LEASE addr=10.0.2.15/24 router=10.0.2.2 tftp=10.0.2.2 bootfile=site.cfg mac=52:54:00:12:34:56",
		"FETCHED",
		"COMMON-BEGIN\n" + common + "COMMON-END",
		"OWN-BEGIN\n" + own + "OWN-END",
		"CONFIG line1=1001@10.0.2.2:5060 sip.port=5060 public=10.0.2.2",
		"ECHO-READY",
	} {
		if !con.waitFor(want, deadline, inst.Done()) {
			t.Fatalf("console never showed %q; console:\n%s\nqemu stderr: %s", want, norm(con.String()), inst.Stderr())
		}
		if want == "FETCHED" {
			t.Logf("QEMU start to config fetched: %v", time.Since(inst.Started))
		}
	}
	for _, s := range []string{filepath.Join(dir, "p.sock"), filepath.Join(dir, "p.sock.audio")} {
		if fi, err := os.Stat(s); err != nil || fi.Mode()&os.ModeSocket == 0 {
			t.Errorf("panel socket %s: %v", s, err)
		}
	}
	// The forwarded ports reach the guest: the probe echoes one datagram
	// on the SIP port and on both ends of the RTP range.
	for _, port := range []int{sipPort, rtpMin, rtpMin + 9} {
		if got := udpEcho(t, port, deadline); got != fmt.Sprintf("echo:hello %d", port) {
			t.Errorf("port %d: echo %q", port, got)
		}
	}
	if !con.waitFor("BOOTPROBE-DONE 0", deadline, inst.Done()) {
		t.Fatalf("probe did not finish; console:\n%s", norm(con.String()))
	}
	// The probe powers off: QEMU exits by itself.
	select {
	case <-inst.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("QEMU did not exit after power off; console:\n%s", norm(con.String()))
	}
	if err := inst.Wait(); err != nil {
		t.Fatalf("QEMU exit: %v", err)
	}
	t.Logf("QEMU start to exit: %v", time.Since(inst.Started))
	for _, l := range strings.Split(norm(con.String()), "\n") {
		if strings.HasPrefix(l, "FETCHED") {
			t.Logf("guest: %s", l)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "p.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("panel socket left behind: %v", err)
	}
}

func TestStopKills(t *testing.T) {
	testtool.Need(t, Binary)
	ctx := context.Background()
	kernel, err := KernelPath(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Stop right after Start: QEMU is killed and waited for, whatever the
	// guest is doing (here the kernel would panic: /init is no program).
	os.WriteFile(filepath.Join(dir, "init"), []byte("not a program"), 0o755)
	initrd, err := WriteInitramfsFile(filepath.Join(dir, "initrd.gz"), filepath.Join(dir, "init"), nil)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := Start(ctx, kernel, initrd, Phone{Name: "stop", MAC: "52:54:00:00:00:09"})
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Stop(); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	select {
	case <-inst.Done():
	default:
		t.Fatal("Stop returned before QEMU exited")
	}
	if err := inst.Stop(); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
}

// norm drops the carriage returns of the serial console.
func norm(s string) string { return strings.ReplaceAll(s, "\r", "") }

// udpEcho sends "hello PORT" to 127.0.0.1:port until an answer comes
// (the guest may not be listening yet) or the deadline passes.
func udpEcho(t *testing.T, port int, deadline <-chan time.Time) string {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 1500)
		c.SetReadDeadline(time.Now().Add(90 * time.Second))
		n, _, err := c.ReadFromUDP(b)
		if err == nil {
			got <- string(b[:n])
		}
		close(got)
	}()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		c.WriteToUDP([]byte(fmt.Sprintf("hello %d", port)), to)
		select {
		case s := <-got:
			return s
		case <-tick.C:
		case <-deadline:
			return "(deadline)"
		}
	}
}

func TestEnsureDisk(t *testing.T) {
	p := filepath.Join(t.TempDir(), "phone.img")
	if err := ensureDisk(p); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() != DiskSize {
		t.Fatalf("created %v, %v", fi, err)
	}
	os.WriteFile(p, []byte("kept"), 0o644)
	if err := ensureDisk(p); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "kept" {
		t.Errorf("an existing image was replaced: %q", b)
	}
	if err := ensureDisk(""); err != nil {
		t.Error(err)
	}
	if err := ensureDisk(filepath.Join(p, "x")); err == nil {
		t.Error("image under a file created")
	}
}
