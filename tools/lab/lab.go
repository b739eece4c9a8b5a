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
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/panelclient"
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
}

// Phone is one phone of a lab.
type Phone struct {
	Ext       string
	PanelAddr string // panel.md address: unix:PATH
	Panel     *panelclient.Client
	SIPPort   int // host port of the phone's SIP socket
	// Started is when the phone's process (QEMU or phoned) was started.
	Started time.Time

	vm  *qemu.Instance
	cmd *exec.Cmd
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
	initrd, err := BuildInitramfs(ctx, root, l.opts.Dir)
	if err != nil {
		return err
	}
	for i, ext := range l.opts.Exts {
		sipPort, rtpMin, err := l.phonePorts()
		if err != nil {
			return err
		}
		mac := fmt.Sprintf("52:54:00:12:34:%02x", 0x10+i)
		tftp := filepath.Join(l.opts.Dir, "tftp-"+ext)
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
`, l.pbxPort(), sipPort, rtpMin, rtpMin+rtpPorts-1)
		if err := os.WriteFile(filepath.Join(tftp, "phone.cfg"), []byte(common), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tftp, MACFile(mac)), []byte(l.ownConfig(ext)), 0o644); err != nil {
			return err
		}
		sock := filepath.Join(l.opts.Dir, "panel-"+ext+".sock")
		ph := &Phone{Ext: ext, PanelAddr: "unix:" + sock, SIPPort: sipPort, Started: time.Now()}
		vm, err := qemu.Start(context.Background(), kernel, initrd, qemu.Phone{
			Name: ext, MAC: mac, TFTPDir: tftp, BootFile: "phone.cfg",
			SIPPort: sipPort, RTPMin: rtpMin, RTPMax: rtpMin + rtpPorts - 1,
			Panel: ph.PanelAddr, Console: l.console(ext),
		})
		if err != nil {
			return fmt.Errorf("phone %s: %w", ext, err)
		}
		ph.vm = vm
		l.Phones = append(l.Phones, ph)
		l.opts.Logf("lab: phone %s booting in QEMU (MAC %s, SIP host port %d, RTP %d-%d, panel %s)", ext, mac, sipPort, rtpMin, rtpMin+rtpPorts-1, ph.PanelAddr)
	}
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
`, l.pbxPort(), expires, sipPort, rtpMin, rtpMin+rtpPorts-1) + l.ownConfig(ext)
		file := filepath.Join(l.opts.Dir, ext+".cfg")
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			return err
		}
		sock := filepath.Join(l.opts.Dir, "panel-"+ext+".sock")
		cmd := exec.Command(bin, "-board", "sim", "-config", file, "-panel", "unix:"+sock)
		cmd.Stdout = l.console(ext)
		cmd.Stderr = cmd.Stdout
		ph := &Phone{Ext: ext, PanelAddr: "unix:" + sock, SIPPort: sipPort, Started: time.Now(), cmd: cmd}
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
`, ext, ext, ext, l.opts.Users[ext]) + vm + own
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

// ModuleRoot is the folder of the project's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the project's module")
	}
	return filepath.Dir(mod), nil
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
