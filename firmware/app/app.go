package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/hardware"
	"github.com/deskphone/deskphone/firmware/netboot"
	"github.com/deskphone/deskphone/firmware/phone"
	"github.com/deskphone/deskphone/firmware/provision"
	"github.com/deskphone/deskphone/firmware/storage"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/hal/panel"
	"github.com/deskphone/deskphone/sipua"
	"github.com/deskphone/deskphone/sipua/transport"
)

// Options say how phoned was started.
type Options struct {
	Board      boards.Board
	Version    string
	ConfigFile string // sim: the configuration file
	Panel      string // sim: the panel's listen address (panel.md)
	// BindIP is the local address for SIP and RTP on the sim board
	// (default 127.0.0.1); the qemu board binds all addresses.
	BindIP string
	Logf   func(format string, args ...any)
	// Started is when the process started, for the boot timings; zero: when
	// Run is called.
	Started time.Time
}

// Run is the whole phone: it boots the board, provisions the configuration,
// serves the panel, registers and takes calls until ctx ends.
func Run(ctx context.Context, o Options) error {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	start := o.Started
	if start.IsZero() {
		start = time.Now()
	}
	step := func(format string, args ...any) {
		logf("boot +%dms: %s", time.Since(start).Milliseconds(), fmt.Sprintf(format, args...))
	}
	if !o.Board.Panel {
		// A hardware board: its hal (keypad, hook, ringer, lamp, codec) is
		// built by firmware/hardware; each part logs loaded or failed.
		hw, err := hardware.New(o.Board, hardware.Options{Logf: logf})
		if err == nil {
			err = hw.Start(ctx)
			defer hw.Close()
		}
		if err != nil {
			return fmt.Errorf("app: %w", err)
		}
		return fmt.Errorf("app: board %s: hardware hal started, but the phone is not wired to it yet (hw is its hal.Input and hal.Observer, hw.Codec() its codec)", o.Board.Name)
	}

	var (
		cfg     config.Config
		prov    *provision.Provisioner // sipua's NOTIFY check-sync calls prov.Resync()
		bindIP  = o.BindIP
		localIP string
		pnl     = panel.New(o.Board.Name, o.Version)
	)
	switch o.Board.Name {
	case "qemu":
		// The panel comes up first so that a person sees the boot.
		if err := pnl.OpenVirtio(); err != nil {
			step("virtual panel: %v; the phone runs without a panel", err)
		} else {
			step("virtual panel on virtio-serial")
		}
		lease, err := upNetwork(ctx, step)
		if err != nil {
			return err
		}
		localIP = lease.Addr.IP.String()
		bindIP = ""
		prov, cfg, err = provisionConfig(ctx, o, &lease, step)
		if err != nil {
			return err
		}
	default:
		if bindIP == "" {
			bindIP = "127.0.0.1"
		}
		if ip := net.ParseIP(bindIP); ip != nil && !ip.IsUnspecified() {
			localIP = bindIP
		} // else the user agent finds the address of the route to the registrar
		var err error
		if prov, cfg, err = provisionConfig(ctx, o, nil, step); err != nil {
			return fmt.Errorf("app: configuration: %w", err)
		}
		if err := pnl.Listen(o.Panel); err != nil {
			return fmt.Errorf("app: panel: %w", err)
		}
		step("virtual panel on %s", o.Panel)
	}
	defer pnl.Close()

	mediaHost := cfg.PublicAddress
	var lines []sipua.LineConfig
	for i, l := range cfg.Lines {
		if l.User == "" {
			for j := i + 1; j < len(cfg.Lines); j++ {
				if cfg.Lines[j].User != "" {
					step("line %d is set but line %d is not: lines after the gap are not used", j+1, i+1)
				}
			}
			break
		}
		if l.Transport != "" && l.Transport != "udp" {
			step("line %d: transport %s is not supported yet; the line uses udp", i+1, l.Transport)
		}
		lines = append(lines, sipua.LineConfig{
			User: l.User, Domain: l.Domain, DisplayName: l.DisplayName,
			AuthUser: l.AuthUser, Password: l.Password,
			Registrar: l.Registrar, OutboundProxy: l.OutboundProxy, Expires: l.Expires,
		})
	}
	if len(lines) == 0 {
		return errors.New("app: the configuration has no line (line.1.user)")
	}
	if mediaHost == "" {
		mediaHost = localIP
	}
	if mediaHost == "" {
		mediaHost = routeIP(lines[0])
	}
	ua, err := sipua.New(sipua.Config{
		Listen:      net.JoinHostPort(bindIP, strconv.Itoa(cfg.SIPPort)),
		ContactHost: localIP,
		UserAgent:   "deskphone/" + o.Version,
		Lines:       lines,
		TrustedOnly: cfg.TrustedOnly,
		Logf:        logf,
	})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	eng, err := audio.NewEngine(audio.Config{Rate: 8000, Ptime: cfg.Ptime, Locale: cfg.TonesLocale})
	if err != nil {
		// The file asked for what this engine cannot do yet (a locale
		// without tone tables, a packet time it does not support): say so
		// and keep the phone working with the defaults.
		def := config.Default()
		step("audio: %v; using tones.locale=%s audio.ptime=%d instead", err, def.TonesLocale, def.Ptime)
		cfg.TonesLocale, cfg.Ptime = def.TonesLocale, def.Ptime
		if eng, err = audio.NewEngine(audio.Config{Rate: 8000, Ptime: cfg.Ptime, Locale: cfg.TonesLocale}); err != nil {
			return fmt.Errorf("app: %w", err)
		}
	}
	ph := phone.New(phone.Deps{
		Config: cfg, UA: ua, Media: eng, Input: pnl, Out: &watcher{Observer: pnl, start: start, step: step},
		MediaHost: mediaHost, BindIP: bindIP, Logf: logf,
	})
	pnl.SetStatus(ph.Status)

	if err := ua.Start(ctx); err != nil {
		return fmt.Errorf("app: SIP: %w", err)
	}
	defer ua.Close()
	step("SIP on %s, %d line(s), media address %s", ua.LocalAddr(), len(lines), mediaHost)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := audioLoop(ctx, pnl, eng); err != nil && ctx.Err() == nil {
			logf("audio: %v; the phone goes on without audio", err)
		}
	}()
	newConfig := resync(ctx, prov, ph, cancel)
	err = ph.Run(ctx)
	cancel()
	pnl.Close() // unblocks the audio loop's Exchange
	wg.Wait()
	if newConfig.Load() {
		ua.Close()
		step("provisioning: restarting to apply the new configuration")
		return provision.Restart()
	}
	return err
}

// audioLoop moves one frame each way per codec period: the codec is the
// clock, the engine encodes the microphone and produces the earpiece.
func audioLoop(ctx context.Context, codec interface {
	Open(rate, frame int) error
	Exchange(ear, mic []int16) error
}, eng *audio.Engine) error {
	n := eng.FrameSamples()
	if err := codec.Open(8000, n); err != nil {
		return err
	}
	mic := make([]int16, n)
	ear := make([]int16, n)
	runtime.LockOSThread()
	for ctx.Err() == nil {
		if err := codec.Exchange(ear, mic); err != nil {
			return err
		}
		eng.Process(mic, ear)
	}
	return nil
}

// watcher is the panel's observer that also logs, once, how long the phone
// took from process start to its first registration, and for each call the
// heap allocations and GC cycles from its answer to its end (DESIGN.md: the
// fixed-allocation core is watched at run time).
type watcher struct {
	hal.Observer
	start time.Time
	step  func(string, ...any)
	once  sync.Once

	callID    int // the call being watched, 0: none
	callStart time.Time
	mallocs   uint64
	gcs       uint32
}

func (w *watcher) Call(id int, state, peer string) {
	w.Observer.Call(id, state, peer)
	switch {
	case state == "connected" && w.callID == 0:
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.callID, w.callStart, w.mallocs, w.gcs = id, time.Now(), m.Mallocs, m.NumGC
	case strings.HasPrefix(state, "ended:") && id == w.callID:
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.step("call %d: %.1f s connected, %d heap allocations, %d GC cycles, heap %d KiB",
			id, time.Since(w.callStart).Seconds(), m.Mallocs-w.mallocs, m.NumGC-w.gcs, m.HeapAlloc/1024)
		w.callID = 0
	}
}

func (b *watcher) Reg(line int, state string) {
	b.Observer.Reg(line, state)
	if state == "registered" {
		b.once.Do(func() {
			b.step("line %d registered (process start to registered: %d ms)", line, time.Since(b.start).Milliseconds())
		})
	}
}

// routeIP is the local address of the route to a line's outbound proxy or
// registrar, or loopback when it has neither (peer-to-peer on one host).
func routeIP(l sipua.LineConfig) string {
	to := l.OutboundProxy
	if to == "" {
		to = l.Registrar
	}
	if to == "" {
		return "127.0.0.1"
	}
	addr, err := transport.Resolve(to)
	if err != nil {
		return "127.0.0.1"
	}
	ip, err := transport.LocalIPFor(addr)
	if err != nil {
		return "127.0.0.1"
	}
	return ip.String()
}

// upNetwork brings eth0 up with DHCP, retrying until it works: a desk phone
// without a network has nothing else to do.
func upNetwork(ctx context.Context, step func(string, ...any)) (netboot.Lease, error) {
	backoff := time.Second
	for {
		lease, err := netboot.Up(ctx, "eth0", step)
		if err == nil {
			step("network: %s on %s, router %s, TFTP server %q, boot file %q",
				lease.Addr.String(), lease.Interface, lease.Router, lease.TFTPServer, lease.BootFile)
			return lease, nil
		}
		step("network: %v; retrying in %s", err, backoff)
		select {
		case <-ctx.Done():
			return netboot.Lease{}, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// provisionConfig gets the configuration the phone boots with. On the qemu
// board (lease set) it comes from the TFTP server the lease names (options
// 66, 150, 160, 43, siaddr), and the last good one is kept on /dev/vda when
// the board has a disk; it retries until it has one. On the sim board it is
// read from o.ConfigFile and the last good one is kept in
// <ConfigFile>.state. A file that cannot be fetched or is refused leaves the
// phone on the stored last good configuration.
func provisionConfig(ctx context.Context, o Options, lease *netboot.Lease, step func(string, ...any)) (*provision.Provisioner, config.Config, error) {
	p := &provision.Provisioner{Logf: step}
	state := o.ConfigFile + ".state"
	if lease != nil {
		if lease.TFTPServer == "" {
			return nil, config.Config{}, errors.New("app: DHCP named no TFTP server (options 66, 150, 160, 43, siaddr)")
		}
		p.Source = provision.TFTPSource{Server: lease.TFTPServer, Dir: lease.ConfigDir}
		p.CommonFile, p.OwnFile = lease.BootFile, provision.OwnFile(lease.MAC)
		state = "/dev/vda"
		if _, err := os.Stat(state); err != nil {
			state = "" // no disk: nothing is kept
			step("provisioning: no disk (/dev/vda); the last good configuration is not kept")
		}
	} else {
		p.Source = provision.DirSource{Dir: filepath.Dir(o.ConfigFile)}
		p.CommonFile = filepath.Base(o.ConfigFile)
	}
	if state != "" {
		st, _, err := storage.Open(state) // open for the process's lifetime
		if err != nil {
			step("provisioning: %v; the last good configuration is not kept", err)
		} else {
			p.Store = st
		}
	}
	backoff := time.Second
	for {
		cfg, err := p.Boot(ctx)
		if err == nil {
			return p, cfg, nil
		}
		if lease == nil {
			return nil, config.Config{}, err
		}
		step("provisioning: %v; retrying in %s", err, backoff)
		select {
		case <-ctx.Done():
			return nil, config.Config{}, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 60*time.Second)
	}
}

// resync runs the provisioner's periodic and triggered resyncs while the
// phone runs. A new configuration waits until the phone is idle, then ends
// the phone (cancel) and the returned flag is set: Run restarts phoned,
// which boots with it.
func resync(ctx context.Context, p *provision.Provisioner, ph *phone.Phone, cancel func()) *atomic.Bool {
	var newConfig atomic.Bool
	p.Idle = func() bool { return strings.Contains(ph.Status(), " phone=idle ") }
	p.Apply = func(config.Config) {
		newConfig.Store(true)
		cancel()
	}
	go p.Run(ctx)
	return &newConfig
}
