package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/panelclient"
	"github.com/deskphone/deskphone/tools/panelhub"
	"github.com/deskphone/deskphone/tools/pbx"
	"github.com/deskphone/deskphone/tools/qemu"
)

// Board is where a lab's phones run.
type Board string

const (
	QEMU Board = "qemu" // phoned as /init of an arm64 guest, provisioned over QEMU's TFTP
	Sim  Board = "sim"  // phoned as a host process with -board sim
)

// Options describe a lab.
type Options struct {
	Board Board
	Exts  []string // one phone per extension, e.g. "1001", "1002"
	Dir   string   // work folder: configs, sockets, consoles, binaries
	// PBXListen is the development PBX's address; default 127.0.0.1 on a
	// free port.
	PBXListen string
	// Users are the PBX's extensions and passwords; default pbx.DefaultUsers().
	Users map[string]string
	// External is the address (host:port on the host's loopback) of a
	// registrar and proxy that is not the development PBX, e.g. Kamailio;
	// when set no PBX is started and Lab.PBX is nil (external.go).
	External string
	// Console receives every phone's console or log output, each line
	// prefixed with the extension; nil keeps it only in Dir.
	Console io.Writer
	// Trace receives each SIP message the PBX sees.
	Trace func(pbx.Entry)
	Logf  func(format string, args ...any)
	// PhoneConfig adds configuration lines to a phone's own file, by
	// extension (e.g. "call.forward_busy = 1003\n").
	PhoneConfig map[string]string
	// VoicemailDir is where the PBX keeps its mailboxes (kept after
	// Close); "" = a temporary folder the PBX removes on Close.
	VoicemailDir string
	// Expires is the sim phones' registration lifetime (line.1.expires),
	// 300 s when zero; the PBX grants at least 60.
	Expires int
	// SharedPanels puts a hub (tools/panelhub) in front of each phone's
	// panel: Phone.PanelAddr is then the hub's, where any number of
	// clients (the lab's own, a person's terminal panel, a second
	// terminal) attach and detach while the phone runs.
	SharedPanels bool
	// Version is the version the QEMU phones' phoned is built with (-X
	// main.version); "" leaves "dev".
	Version string
	// WebPassword, when set, is every phone's admin.password: each serves
	// its web page (HTTPS) at Phone.WebURL, a port of the host's loopback
	// (forwarded into QEMU, or the sim phone's admin.port).
	WebPassword string
	// Disk gives each QEMU phone a disk (Dir/disk-EXT.img, qemu.DiskSize),
	// its state device: the last good configuration, the web certificate,
	// the boot record and the firmware slots, kept across PowerCycle.
	Disk bool
}

// Phone is one phone of a lab.
type Phone struct {
	Ext       string
	PanelAddr string // panel.md address: unix:PATH
	Panel     *panelclient.Client
	SIPPort   int // host port of the phone's SIP socket
	// WebURL is the phone's web page, https://127.0.0.1:PORT, when
	// Options.WebPassword is set; "" otherwise.
	WebURL string
	// MAC is the QEMU phone's MAC address.
	MAC string
	// Disk is the QEMU phone's state disk (Options.Disk); "" = none.
	Disk string
	// Started is when the phone's process (QEMU or phoned) was started.
	Started time.Time

	vm  *qemu.Instance
	qp  qemu.Phone // how vm was started, for PowerCycle
	cmd *exec.Cmd
	hub *panelhub.Hub // SharedPanels
}

// Exited is closed when the QEMU phone's machine has ended (it powered
// off or rebooted: QEMU runs with -no-reboot); nil on the sim board.
func (ph *Phone) Exited() <-chan struct{} {
	if ph.vm == nil {
		return nil
	}
	return ph.vm.Done()
}

// PID is the process ID of the phone's phoned on the sim board; 0 on the
// qemu board (the phone is a guest, not a host process) or before it
// started.
func (ph *Phone) PID() int {
	if ph.cmd == nil || ph.cmd.Process == nil {
		return 0
	}
	return ph.cmd.Process.Pid
}

// Lab is a development PBX with phones registered to it.
type Lab struct {
	PBX    *pbx.PBX
	Phones []*Phone
	opts   Options
	stopPB context.CancelFunc
	held   []*testtool.Held // the phones' ports, held until Close
	// kernel and initrd the QEMU phones boot, for PowerCycle.
	kernel, initrd string
}

// Start builds the firmware, starts the PBX and boots one phone per
// extension, and connects to each phone's panel. It returns once every panel
// is connected (the phones may still be registering: see WaitRegistered).
func Start(ctx context.Context, o Options) (*Lab, error) {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Users == nil {
		o.Users = pbx.DefaultUsers()
	}
	if o.PBXListen == "" {
		o.PBXListen = "127.0.0.1:0"
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	l := &Lab{opts: o}
	if o.External != "" {
		if err := l.checkExternal(); err != nil {
			return nil, err
		}
		o.Logf("lab: phones register with the external registrar %s", o.External)
	} else {
		p, err := pbx.New(pbx.Config{Listen: o.PBXListen, Realm: "deskphone", Users: o.Users, Logf: o.Logf, Trace: o.Trace, VoicemailDir: o.VoicemailDir})
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		pctx, cancel := context.WithCancel(context.Background())
		l.stopPB = cancel
		if err := p.Start(pctx); err != nil {
			cancel()
			return nil, fmt.Errorf("lab: PBX: %w", err)
		}
		l.PBX = p
		o.Logf("lab: development PBX on %s", p.Addr())
	}

	var err error
	switch o.Board {
	case QEMU:
		err = l.startQEMU(ctx)
	case Sim:
		err = l.startSim(ctx)
	default:
		err = fmt.Errorf("unknown board %q", o.Board)
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %w", err)
	}
	for _, ph := range l.Phones {
		if o.SharedPanels {
			h, err := panelhub.New(ph.PanelAddr, "unix:"+filepath.Join(o.Dir, "panel-"+ph.Ext+".shared.sock"), o.Logf)
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("lab: panel of %s: %w", ph.Ext, err)
			}
			ph.hub, ph.PanelAddr = h, h.Addr()
		}
		c, err := ph.dialPanel(ctx)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("lab: panel of %s: %w", ph.Ext, err)
		}
		ph.Panel = c
	}
	return l, nil
}

// dialPanel connects to the phone's panel, giving up early if the phone's
// QEMU exits.
func (ph *Phone) dialPanel(ctx context.Context) (*panelclient.Client, error) {
	if ph.vm == nil {
		return panelclient.Dial(ctx, ph.PanelAddr)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ph.vm.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	c, err := panelclient.Dial(ctx, ph.PanelAddr)
	select {
	case <-ph.vm.Done():
		return nil, fmt.Errorf("QEMU exited: %s", strings.TrimSpace(ph.vm.Stderr()))
	default:
	}
	return c, err
}

// WaitRegistered waits until every phone says line 1 is registered, and
// returns for each extension the time from its start to when this was seen.
// A phone may have registered before its panel client connected, so it asks
// for the status and then watches the reg lines.
func (l *Lab) WaitRegistered(ctx context.Context) (map[string]time.Duration, error) {
	took := map[string]time.Duration{}
	for _, ph := range l.Phones {
		for {
			mark := ph.Panel.Mark()
			st, err := ph.Panel.Status(ctx)
			if err != nil {
				return took, fmt.Errorf("lab: %s did not register: %w", ph.Ext, err)
			}
			if strings.Contains(" "+st, " reg=1:registered") || strings.Contains(st, ",1:registered") {
				break
			}
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err = ph.Panel.WaitAfter(wctx, mark, RegisteredRE)
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return took, fmt.Errorf("lab: %s did not register (status %q): %w", ph.Ext, st, ctx.Err())
			}
		}
		took[ph.Ext] = time.Since(ph.Started)
	}
	return took, nil
}

// Close stops the phones and the PBX.
func (l *Lab) Close() error {
	for _, ph := range l.Phones {
		if ph.Panel != nil {
			ph.Panel.Close()
		}
		if ph.hub != nil {
			ph.hub.Close()
		}
		if ph.vm != nil {
			ph.vm.Stop()
		}
		if ph.cmd != nil && ph.cmd.Process != nil {
			ph.cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { ph.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				ph.cmd.Process.Kill()
				<-done
			}
		}
	}
	if l.PBX != nil {
		l.PBX.Close()
	}
	if l.stopPB != nil {
		l.stopPB()
	}
	for _, h := range l.held {
		h.Release()
	}
	l.held = nil
	return nil
}

// pbxPort is the port the PBX listens on.
func (l *Lab) pbxPort() int {
	if l.opts.External != "" {
		return l.externalPort()
	}
	return l.PBX.Addr().Port
}

func (l *Lab) startQEMU(ctx context.Context) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	kernel, err := qemu.KernelPath(ctx)
	if err != nil {
		return err
	}
	initrd, err := l.buildInitramfs(ctx, root)
	if err != nil {
		return err
	}
	l.kernel, l.initrd = kernel, initrd
	for i, ext := range l.opts.Exts {
		sipPort, rtpMin, err := l.phonePorts()
		if err != nil {
			return err
		}
		mac := fmt.Sprintf("52:54:00:12:34:%02x", 0x10+i)
		tftp := l.TFTPDir(ext)
		if err := os.MkdirAll(tftp, 0o755); err != nil {
			return err
		}
		// Inside the guest the host, and so the PBX, is 10.0.2.2; the SIP
		// port and RTP range are forwarded from the host's loopback, so the
		// phone advertises 10.0.2.2 for its media (tools/qemu/doc.go).
		common := fmt.Sprintf(`# common file for every phone of this lab
line.1.registrar = 10.0.2.2:%d
line.1.expires = 300
sip.port = %d
rtp.port_min = %d
rtp.port_max = %d
nat.public_address = 10.0.2.2
audio.codecs = PCMU,PCMA
# a lab's phone fetches its files at once when it starts, so a file a test
# (or a person) changed applies at the next boot (no fleet to spread)
provision.spread_seconds = 0
`, l.pbxPort(), sipPort, rtpMin, rtpMin+rtpPorts-1)
		if err := os.WriteFile(filepath.Join(tftp, "phone.cfg"), []byte(common), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tftp, MACFile(mac)), []byte(l.ownConfig(ext)), 0o644); err != nil {
			return err
		}
		sock := filepath.Join(l.opts.Dir, "panel-"+ext+".sock")
		ph := &Phone{Ext: ext, PanelAddr: "unix:" + sock, SIPPort: sipPort, Started: time.Now(), MAC: mac}
		ph.qp = qemu.Phone{
			Name: ext, MAC: mac, TFTPDir: tftp, BootFile: "phone.cfg",
			SIPPort: sipPort, RTPMin: rtpMin, RTPMax: rtpMin + rtpPorts - 1,
			Panel: ph.PanelAddr, Console: l.console(ext),
		}
		if l.opts.WebPassword != "" {
			if ph.qp.WebPort, err = l.webPort(); err != nil {
				return err
			}
			ph.WebURL = fmt.Sprintf("https://127.0.0.1:%d", ph.qp.WebPort) // guest port 443, admin.port's default
		}
		if l.opts.Disk {
			ph.qp.Disk = filepath.Join(l.opts.Dir, "disk-"+ext+".img")
			ph.Disk = ph.qp.Disk
		}
		vm, err := qemu.Start(context.Background(), kernel, initrd, ph.qp)
		if err != nil {
			return fmt.Errorf("phone %s: %w", ext, err)
		}
		ph.vm = vm
		l.Phones = append(l.Phones, ph)
		l.opts.Logf("lab: phone %s booting in QEMU (MAC %s, SIP host port %d, RTP %d-%d, panel %s)", ext, mac, sipPort, rtpMin, rtpMin+rtpPorts-1, ph.PanelAddr)
	}
	return nil
}

// TFTPDir is the folder QEMU's TFTP server serves to the phone of ext:
// its phone.cfg, its own file, and what else a test puts there.
func (l *Lab) TFTPDir(ext string) string { return filepath.Join(l.opts.Dir, "tftp-"+ext) }

// buildInitramfs builds phoned (with Options.Version) as the initramfs's
// /init.
func (l *Lab) buildInitramfs(ctx context.Context, root string) (string, error) {
	if l.opts.Version == "" {
		return BuildInitramfs(ctx, root, l.opts.Dir)
	}
	bin := filepath.Join(l.opts.Dir, "phoned-arm64")
	if err := qemu.BuildArm64WithVersion(ctx, root, "./firmware/cmd/phoned", bin, l.opts.Version); err != nil {
		return "", err
	}
	return qemu.WriteInitramfsFile(filepath.Join(l.opts.Dir, "initrd.gz"), bin, nil)
}

// PowerCycle pulls a QEMU phone's plug (QEMU is killed, whatever the
// guest was doing) and boots it again on the same disk, then connects to
// its panel again.
func (l *Lab) PowerCycle(ctx context.Context, ph *Phone) error {
	if ph.vm == nil {
		return fmt.Errorf("lab: %s is not a QEMU phone", ph.Ext)
	}
	if ph.Panel != nil {
		ph.Panel.Close()
		ph.Panel = nil
	}
	ph.vm.Stop()
	vm, err := qemu.Start(context.Background(), l.kernel, l.initrd, ph.qp)
	if err != nil {
		return fmt.Errorf("lab: phone %s: %w", ph.Ext, err)
	}
	ph.vm, ph.Started = vm, time.Now()
	c, err := ph.dialPanel(ctx)
	if err != nil {
		return fmt.Errorf("lab: panel of %s: %w", ph.Ext, err)
	}
	ph.Panel = c
	return nil
}

func (l *Lab) startSim(ctx context.Context) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	bin := filepath.Join(l.opts.Dir, "phoned-host")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./firmware/cmd/phoned")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build phoned: %v\n%s", err, out)
	}
	for _, ext := range l.opts.Exts {
		sipPort, rtpMin, err := l.phonePorts()
		if err != nil {
			return err
		}
		expires := l.opts.Expires
		if expires == 0 {
			expires = 300
		}
		cfg := fmt.Sprintf(`line.1.registrar = 127.0.0.1:%d
line.1.expires = %d
sip.port = %d
rtp.port_min = %d
rtp.port_max = %d
`, l.pbxPort(), expires, sipPort, rtpMin, rtpMin+rtpPorts-1)
		webURL := ""
		if l.opts.WebPassword != "" {
			port, err := l.webPort()
			if err != nil {
				return err
			}
			cfg += fmt.Sprintf("admin.port = %d\n", port)
			webURL = fmt.Sprintf("https://127.0.0.1:%d", port)
		}
		cfg += l.ownConfig(ext)
		file := filepath.Join(l.opts.Dir, ext+".cfg")
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			return err
		}
		sock := filepath.Join(l.opts.Dir, "panel-"+ext+".sock")
		cmd := exec.Command(bin, "-board", "sim", "-config", file, "-panel", "unix:"+sock)
		cmd.Stdout = l.console(ext)
		cmd.Stderr = cmd.Stdout
		ph := &Phone{Ext: ext, PanelAddr: "unix:" + sock, SIPPort: sipPort, Started: time.Now(), cmd: cmd, WebURL: webURL}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("phone %s: %w", ext, err)
		}
		l.Phones = append(l.Phones, ph)
	}
	return nil
}

func (l *Lab) ownConfig(ext string) string {
	own := l.opts.PhoneConfig[ext]
	vm := ""
	if l.PBX != nil && !strings.Contains(own, "voicemail.number") {
		// The vm key dials the development PBX's mailboxes.
		vm = "voicemail.number = " + l.PBX.VoicemailNumber() + "\n"
	}
	return fmt.Sprintf(`# phone %s
line.1.user = %s
line.1.display_name = Ext %s
line.1.password = %s
`, ext, ext, ext, l.opts.Users[ext]) + vm + l.adminConfig() + own
}

// adminConfig is the web page's password line, when the lab has one.
func (l *Lab) adminConfig() string {
	if l.opts.WebPassword == "" {
		return ""
	}
	return "admin.password = " + l.opts.WebPassword + "\n"
}

// webPort holds a host port for a phone's web page until Close.
func (l *Lab) webPort() (int, error) {
	h, err := testtool.Hold(1)
	if err != nil {
		return 0, err
	}
	l.held = append(l.held, h)
	return h.Base, nil
}

// ConsoleLog returns what phone ext has written to its console (or log)
// so far: the file in Options.Dir that console makes.
func (l *Lab) ConsoleLog(ext string) ([]byte, error) {
	return os.ReadFile(filepath.Join(l.opts.Dir, "console-"+ext+".log"))
}

// WaitConsole waits, until ctx ends, for the n-th match (from 1) of re
// in phone ext's console and returns it with its submatches.
func (l *Lab) WaitConsole(ctx context.Context, ext string, re *regexp.Regexp, n int) ([][]byte, error) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := l.ConsoleLog(ext); err == nil {
			if m := re.FindAllSubmatch(b, n); len(m) >= n {
				return m[n-1], nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lab: phone %s: no match %d of %q in its console: %w", ext, n, re, ctx.Err())
		case <-t.C:
		}
	}
}

// LogConsoles writes each phone's console so far through logf (a test's
// Logf when it failed).
func (l *Lab) LogConsoles(logf func(format string, args ...any)) {
	for _, ph := range l.Phones {
		if b, err := l.ConsoleLog(ph.Ext); err == nil {
			logf("console of %s:\n%s", ph.Ext, b)
		}
	}
}

// console returns where a phone's console goes: a file in Dir, and
// Options.Console with the extension before each line.
func (l *Lab) console(ext string) io.Writer {
	f, err := os.Create(filepath.Join(l.opts.Dir, "console-"+ext+".log"))
	if err != nil {
		return io.Discard
	}
	if l.opts.Console == nil {
		return f
	}
	return io.MultiWriter(f, &prefixWriter{prefix: ext + "| ", w: l.opts.Console})
}

// prefixWriter writes whole lines, each behind a prefix.
type prefixWriter struct {
	mu     sync.Mutex
	prefix string
	w      io.Writer
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(p.buf[:i]), "\r")
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, line)
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// MACFile is the name of a phone's own configuration file (config.md).
func MACFile(mac string) string {
	return strings.ToLower(strings.ReplaceAll(mac, ":", "")) + ".cfg"
}

// ModuleRoot is the folder of the project's go.mod: the one of the
// current module, or above it for a module nested in the project (such as
// tools/webtest).
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the project's module")
	}
	for dir := filepath.Dir(mod); ; {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module github.com/deskphone/deskphone\n")) {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no go.mod of github.com/deskphone/deskphone at or above %s", filepath.Dir(mod))
		}
		dir = up
	}
}

// BuildInitramfs builds phoned for arm64 and packs it as /init into
// DIR/initrd.gz.
func BuildInitramfs(ctx context.Context, root, dir string) (string, error) {
	return qemu.BuildInitramfs(ctx, root, "./firmware/cmd/phoned", dir, nil)
}

// rtpPorts is how many RTP and RTCP ports each phone of a lab gets.
const rtpPorts = 10

// phonePorts holds a phone's SIP port and its rtpPorts RTP/RTCP ports
// (the first even) until Close: a phone binds them only when it has
// booted, or for RTP when a call starts, and until then no other lab or
// test (testtool.Hold, in this process or another) is handed them.
func (l *Lab) phonePorts() (sip, rtpMin int, err error) {
	s, err := testtool.Hold(1)
	if err != nil {
		return 0, 0, err
	}
	l.held = append(l.held, s)
	r, err := testtool.HoldEven(rtpPorts)
	if err != nil {
		return 0, 0, err
	}
	l.held = append(l.held, r)
	return s.Base, r.Base, nil
}
