package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Phone describes one phone to run in QEMU.
type Phone struct {
	Name string // used in messages
	// MAC is the phone's MAC address, 52:54:00:xx:xx:xx.
	MAC string
	// TFTPDir is served read-only by QEMU's built-in TFTP server at
	// 10.0.2.2 (DHCP option 66); empty: no TFTP server.
	TFTPDir  string
	BootFile string // DHCP boot file; default "phone.cfg"
	// SIPPort is the guest UDP port forwarded from host 127.0.0.1:SIPPort;
	// 0: none.
	SIPPort int
	// WebPort is the host TCP port (on 127.0.0.1) forwarded to the guest's
	// web page on WebGuestPort (default 443, admin.port); 0: none.
	WebPort, WebGuestPort int
	// RTPMin..RTPMax are guest UDP ports forwarded from the same host ports
	// on 127.0.0.1 (keep the range small: at most MaxForwardedPorts); 0: none.
	RTPMin, RTPMax int
	// Panel is "unix:/path/p.sock" (audio at /path/p.sock.audio) or
	// "tcp:127.0.0.1:7000" (audio 7001); empty: no panel ports.
	Panel    string
	Console  io.Writer // the guest's serial console; nil: discarded
	MemoryMB int       // default 256
	// Append is added to the kernel command line.
	Append string
	// Disk is a raw image attached as a virtio block device (the guest's
	// /dev/vda), where the phone keeps its last good configuration; Start
	// creates it (DiskSize bytes, zeroed) when absent. Empty: no disk.
	Disk string

	// Machine is "" (or "virt") for the QEMU board, or "raspi3b": QEMU's
	// Raspberry Pi 3B (BCM2837 with its GPIO, I2S and SD controllers, 1 GiB)
	// booting a Pi image's kernel, DTB and initramfs. The Pi has no virtio:
	// its network is QEMU's usb-net on the Pi's USB (the guest's usb0), its
	// console the mini UART (ttyS1), it has no panel ports and no Disk.
	Machine string
	DTB     string // the device tree (raspi3b)
	// SD is a raw SD card image (raspi3b); QEMU wants its size a power of
	// two. Empty: no card.
	SD string
}

// DiskSize is the size of a disk image Start creates (sparse): the
// configuration store in its first MiB, the boot record and two firmware
// slots of 31 MiB after it (firmware/update).
const DiskSize = 64 << 20

// MaxForwardedPorts bounds the RTP range a phone may forward.
const MaxForwardedPorts = 64

// Binary is the QEMU program Start runs.
var Binary = "qemu-system-aarch64"

// escape doubles commas, QEMU's option-value escape.
func escape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// Args returns QEMU's command line (without the program name) for p.
func (p Phone) Args(kernel, initrd string) ([]string, error) {
	mac, err := net.ParseMAC(p.MAC)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("qemu: %s: bad MAC %q", p.Name, p.MAC)
	}
	if mac[0]&1 != 0 {
		return nil, fmt.Errorf("qemu: %s: MAC %s is a multicast address", p.Name, p.MAC)
	}
	mem := p.MemoryMB
	if mem == 0 {
		mem = 256
	}
	boot := p.BootFile
	if boot == "" {
		boot = "phone.cfg"
	}
	if strings.ContainsAny(boot, ",/\\") {
		return nil, fmt.Errorf("qemu: %s: bad boot file %q", p.Name, boot)
	}
	netdev := "user,id=net0"
	if p.TFTPDir != "" {
		if _, err := os.Stat(p.TFTPDir); err != nil {
			return nil, fmt.Errorf("qemu: %s: TFTP dir: %w", p.Name, err)
		}
		netdev += ",tftp=" + escape(p.TFTPDir) + ",bootfile=" + boot + ",tftp-server-name=10.0.2.2"
	}
	fwd := func(port int) string {
		return fmt.Sprintf(",hostfwd=udp:127.0.0.1:%d-:%d", port, port)
	}
	if p.SIPPort != 0 {
		if p.SIPPort < 1 || p.SIPPort > 65535 {
			return nil, fmt.Errorf("qemu: %s: bad SIP port %d", p.Name, p.SIPPort)
		}
		netdev += fwd(p.SIPPort)
	}
	if p.WebPort != 0 {
		guest := p.WebGuestPort
		if guest == 0 {
			guest = 443
		}
		if p.WebPort < 1 || p.WebPort > 65535 || guest < 1 || guest > 65535 {
			return nil, fmt.Errorf("qemu: %s: bad web port %d -> %d", p.Name, p.WebPort, guest)
		}
		netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d", p.WebPort, guest)
	}
	if p.RTPMin != 0 || p.RTPMax != 0 {
		if p.RTPMin < 1 || p.RTPMax > 65535 || p.RTPMin > p.RTPMax || p.RTPMax-p.RTPMin+1 > MaxForwardedPorts {
			return nil, fmt.Errorf("qemu: %s: bad RTP range %d-%d (at most %d ports)", p.Name, p.RTPMin, p.RTPMax, MaxForwardedPorts)
		}
		if p.SIPPort >= p.RTPMin && p.SIPPort <= p.RTPMax {
			return nil, fmt.Errorf("qemu: %s: SIP port %d inside the RTP range", p.Name, p.SIPPort)
		}
		for port := p.RTPMin; port <= p.RTPMax; port++ {
			netdev += fwd(port)
		}
	}
	if p.Machine == "raspi3b" {
		return p.raspiArgs(kernel, initrd, netdev, mac)
	}
	if p.Machine != "" && p.Machine != "virt" {
		return nil, fmt.Errorf("qemu: %s: machine %q: want virt or raspi3b", p.Name, p.Machine)
	}
	cmdline := "console=ttyAMA0 quiet panic=-1"
	if p.Append != "" {
		cmdline += " " + p.Append
	}
	args := []string{
		"-M", "virt", "-cpu", "cortex-a57", "-m", strconv.Itoa(mem),
		"-nographic", "-no-reboot",
		"-kernel", kernel, "-initrd", initrd,
		"-append", cmdline,
		"-netdev", netdev,
		"-device", "virtio-net-device,netdev=net0,mac=" + mac.String(),
		"-device", "virtio-serial-device",
	}
	if p.Disk != "" {
		args = append(args,
			"-drive", "file="+escape(p.Disk)+",format=raw,if=none,id=disk0",
			"-device", "virtio-blk-device,drive=disk0")
	}
	if p.Panel != "" {
		ctl, audio, err := panelChardevs(p.Panel)
		if err != nil {
			return nil, fmt.Errorf("qemu: %s: %w", p.Name, err)
		}
		args = append(args,
			"-chardev", ctl, "-device", "virtserialport,chardev=panel,name=panel",
			"-chardev", audio, "-device", "virtserialport,chardev=panelaudio,name=panel.audio")
	}
	return args, nil
}

// raspiArgs is Args for the raspi3b machine.
func (p Phone) raspiArgs(kernel, initrd, netdev string, mac net.HardwareAddr) ([]string, error) {
	if p.DTB == "" {
		return nil, fmt.Errorf("qemu: %s: a raspi3b needs its device tree (DTB)", p.Name)
	}
	if p.Panel != "" || p.Disk != "" {
		return nil, fmt.Errorf("qemu: %s: a raspi3b has no virtio panel or disk; its state is on the SD card", p.Name)
	}
	if p.MemoryMB != 0 && p.MemoryMB != 1024 {
		return nil, fmt.Errorf("qemu: %s: a raspi3b has 1024 MB, not %d", p.Name, p.MemoryMB)
	}
	cmdline := "console=ttyS1,115200 quiet panic=-1"
	if p.Append != "" {
		cmdline += " " + p.Append
	}
	args := []string{
		"-M", "raspi3b", "-display", "none", "-monitor", "none", "-no-reboot",
		// serial0 is the PL011 (the Bluetooth UART in the device tree),
		// serial1 the mini UART the console is on.
		"-serial", "null", "-serial", "stdio",
		"-kernel", kernel, "-dtb", p.DTB, "-initrd", initrd,
		"-append", cmdline,
		"-netdev", netdev,
		"-device", "usb-net,netdev=net0,mac=" + mac.String(),
	}
	if p.SD != "" {
		st, err := os.Stat(p.SD)
		if err != nil {
			return nil, fmt.Errorf("qemu: %s: SD card: %w", p.Name, err)
		}
		if n := st.Size(); n == 0 || n&(n-1) != 0 {
			return nil, fmt.Errorf("qemu: %s: SD card image is %d bytes; QEMU wants a power of two", p.Name, n)
		}
		args = append(args, "-drive", "file="+escape(p.SD)+",format=raw,if=sd")
	}
	return args, nil
}

// panelChardevs turns a panel address into the two -chardev values.
func panelChardevs(addr string) (ctl, audio string, err error) {
	switch {
	case strings.HasPrefix(addr, "unix:"):
		p := strings.TrimPrefix(addr, "unix:")
		if p == "" {
			return "", "", fmt.Errorf("empty socket path in %q", addr)
		}
		ctl = "socket,id=panel,path=" + escape(p) + ",server=on,wait=off"
		audio = "socket,id=panelaudio,path=" + escape(p+".audio") + ",server=on,wait=off"
	case strings.HasPrefix(addr, "tcp:"):
		host, port, err := net.SplitHostPort(strings.TrimPrefix(addr, "tcp:"))
		if err != nil {
			return "", "", fmt.Errorf("panel %q: %w", addr, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return "", "", fmt.Errorf("panel %q: host must be a loopback address", addr)
		}
		pn, err := strconv.Atoi(port)
		if err != nil || pn < 1 || pn > 65534 {
			return "", "", fmt.Errorf("panel %q: bad port", addr)
		}
		ctl = fmt.Sprintf("socket,id=panel,host=%s,port=%d,server=on,wait=off", host, pn)
		audio = fmt.Sprintf("socket,id=panelaudio,host=%s,port=%d,server=on,wait=off", host, pn+1)
	default:
		return "", "", fmt.Errorf("panel %q: want unix:PATH or tcp:HOST:PORT", addr)
	}
	return ctl, audio, nil
}

// ensureDisk creates a zeroed DiskSize image at path when nothing is there.
func ensureDisk(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Truncate(DiskSize); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Instance is a running QEMU.
type Instance struct {
	Phone   Phone
	Started time.Time // when QEMU was started

	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	stderr  *limitedBuffer
	stopped sync.Once
	killed  bool
	mu      sync.Mutex
}

// Start runs QEMU for p with kernel and initrd. Cancelling ctx kills it.
// The returned Instance must be ended with Wait or Stop.
func Start(ctx context.Context, kernel, initrd string, p Phone) (*Instance, error) {
	args, err := p.Args(kernel, initrd)
	if err != nil {
		return nil, err
	}
	for _, f := range []string{kernel, initrd, p.DTB} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("qemu: %s: %w", p.Name, err)
		}
	}
	if err := ensureDisk(p.Disk); err != nil {
		return nil, fmt.Errorf("qemu: %s: disk: %w", p.Name, err)
	}
	cmd := exec.CommandContext(ctx, Binary, args...)
	cmd.Stdin = nil
	if p.Console != nil {
		cmd.Stdout = p.Console
	} else {
		cmd.Stdout = io.Discard
	}
	i := &Instance{Phone: p, cmd: cmd, done: make(chan struct{}), stderr: &limitedBuffer{max: 16 << 10}}
	cmd.Stderr = i.stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("qemu: %s: starting %s: %w", p.Name, Binary, err)
	}
	i.Started = time.Now()
	go func() {
		err := cmd.Wait()
		i.mu.Lock()
		if err != nil {
			if msg := strings.TrimSpace(i.stderr.String()); msg != "" {
				err = fmt.Errorf("%w: %s", err, msg)
			}
			i.err = fmt.Errorf("qemu: %s: %w", p.Name, err)
		}
		i.mu.Unlock()
		close(i.done)
	}()
	return i, nil
}

// Done is closed when QEMU has exited.
func (i *Instance) Done() <-chan struct{} { return i.done }

// Wait waits for QEMU to exit (the guest powered off, rebooted or
// panicked, as QEMU runs with -no-reboot) and returns its error, nil on a
// clean exit.
func (i *Instance) Wait() error {
	<-i.done
	i.cleanup()
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.killed {
		return nil
	}
	return i.err
}

// Stop kills QEMU, waits for it and removes the panel sockets. Stopping
// an instance that has already exited is not an error.
func (i *Instance) Stop() error {
	select {
	case <-i.done:
	default:
		i.mu.Lock()
		i.killed = true
		i.mu.Unlock()
		if err := i.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("qemu: %s: stop: %w", i.Phone.Name, err)
		}
	}
	return i.Wait()
}

// Stderr returns what QEMU wrote to its standard error (the last 16 KiB).
func (i *Instance) Stderr() string { return i.stderr.String() }

func (i *Instance) cleanup() {
	i.stopped.Do(func() {
		if p, ok := strings.CutPrefix(i.Phone.Panel, "unix:"); ok && p != "" {
			os.Remove(p)
			os.Remove(p + ".audio")
		}
	})
}

// limitedBuffer keeps the last max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
