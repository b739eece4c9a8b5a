package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/diag"
	"github.com/deskphone/deskphone/firmware/netboot"
	"github.com/deskphone/deskphone/firmware/phone"
	"github.com/deskphone/deskphone/firmware/provision"
	"github.com/deskphone/deskphone/firmware/update"
	"github.com/deskphone/deskphone/firmware/web"
	"github.com/deskphone/deskphone/hal"
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
	// Log is the phone's log, which Logf writes into (phoned's log.Logger
	// writes every line into it): its ring of recent lines, for the web
	// page, and the syslog server log.syslog names. nil: a Log without a
	// console, fed by Run's logf beside Logf.
	Log *diag.Log
	// Started is when the process started, for the boot timings; zero: when
	// Run is called.
	Started time.Time
	// Firmware installs updates into the other A/B slot and confirms the
	// running one once it has registered; nil: no updates (the sim board,
	// a state device without slots).
	Firmware *update.Updater
	// Notice is shown on the idle display: the last firmware rollback.
	Notice string
	// TFTP, on the sim board, is a TFTP server (host:port) to provision
	// from as a phone does from the one its DHCP lease names: the common
	// file phone.cfg, then MAC's own file (provision.OwnFile), retrying
	// until it has them; ConfigFile is not read and no last good
	// configuration is kept. tools/fleet runs its phones so, from
	// tftpd-hpa.
	TFTP string
	MAC  net.HardwareAddr
	// PowerCut, once closed, stops the phone at once as a power cut would:
	// no BYE, no unregistration (sipua.UA.Halt); Run then returns nil.
	// nil: never.
	PowerCut <-chan struct{}
	// Restart applies a new configuration once the phone has stopped for
	// it; nil is provision.Restart (phoned replaces itself with a fresh
	// copy). Phones sharing one process (tools/fleet) run again instead.
	Restart func() error
	// SharedProcess says that other phones run in this process
	// (tools/fleet): the heap allocations and GC cycles of each call and
	// idle spell (the watcher) are not logged, since the runtime's
	// counters are the whole process's, and reading them stops every
	// phone's goroutines (runtime.ReadMemStats), once a second for each
	// idle phone: a thousand stops a second stalled a thousand-phone fleet.
	SharedProcess bool
}

// Run is the whole phone: it boots the board, provisions the configuration,
// serves the panel, registers and takes calls until ctx ends.
func Run(ctx context.Context, o Options) error {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dl := o.Log
	if dl == nil {
		dl = diag.NewLog(diag.LogConfig{})
		inner := logf
		logf = func(format string, args ...any) {
			inner(format, args...)
			dl.Printf(format, args...)
		}
	}
	// The SIP trace: every message the user agent sends and receives, in
	// its ring always, in the log too with log.sip = on. dl.Recent() and
	// trace.Ring() are what the web page's recent log and SIP trace
	// download read (io.WriterTo).
	trace := diag.NewTrace(0, nil)
	start := o.Started
	if start.IsZero() {
		start = time.Now()
	}
	step := func(format string, args ...any) {
		logf("boot +%dms: %s", time.Since(start).Milliseconds(), fmt.Sprintf(format, args...))
	}
	f, err := openFront(ctx, o, step)
	if err != nil {
		return err
	}
	defer f.close()

	var (
		cfg      config.Config
		prov     *provision.Provisioner
		bindIP   = o.BindIP
		localIP  string
		localMAC net.HardwareAddr
		ntpDHCP  []net.IP // DHCP option 42
		state    string   // the state device; "" = none
		dev      = web.Device{Version: o.Version, Board: o.Board.Name, Started: start}
	)
	if o.Board.Name == "sim" {
		// The host: configuration from a file, SIP and RTP on bindIP.
		if bindIP == "" {
			bindIP = "127.0.0.1"
		}
		if ip := net.ParseIP(bindIP); ip != nil && !ip.IsUnspecified() {
			localIP = bindIP
		} // else the address of the route to the registrar (routeIP)
		var lease *netboot.Lease
		if o.TFTP != "" {
			if len(o.MAC) != 6 {
				return fmt.Errorf("app: provisioning from %s needs the phone's MAC", o.TFTP)
			}
			lease = &netboot.Lease{Server: o.TFTP, Scheme: "tftp", MAC: o.MAC, BootFile: "phone.cfg"}
		}
		if prov, cfg, state, err = provisionConfig(ctx, o, lease, step); err != nil {
			return fmt.Errorf("app: configuration: %w", err)
		}
		dev.Name, _ = os.Hostname()
		if localIP != "" {
			dev.IPs = []string{localIP}
		}
	} else {
		// A phone: DHCP, then the configuration over TFTP.
		lease, err := upNetwork(ctx, step)
		if err != nil {
			return err
		}
		localIP, bindIP, localMAC = lease.Addr.IP.String(), "", lease.MAC
		ntpDHCP = lease.NTP
		if prov, cfg, state, err = provisionConfig(ctx, o, &lease, step); err != nil {
			return err
		}
		dev.IPs, dev.MAC = []string{localIP}, lease.MAC.String()
		dev.Name = "deskphone-" + strings.ReplaceAll(dev.MAC, ":", "")
	}

	if cfg.LogSIP {
		trace.SetLog(dl)
	}
	if cfg.Syslog != "" {
		host := sysHostname(localMAC)
		go startSyslog(ctx, dl, diag.SyslogConfig{Addr: cfg.Syslog, Hostname: host}, o.Notice, logf)
	}
	mediaHost := cfg.PublicAddress
	lines := uaLines(cfg, step)
	if len(lines) == 0 {
		return errors.New("app: the configuration has no line (line.1.user)")
	}
	if mediaHost == "" {
		mediaHost = localIP
	}
	if mediaHost == "" {
		mediaHost = routeIP(lines[0])
	}
	// Message-summary reports go into the phone's goroutine; the user
	// agent's callback never blocks (a report is dropped when 8 wait).
	mwi := make(chan phone.MWI, 8)
	ua, err := sipua.New(sipua.Config{
		Listen:      net.JoinHostPort(bindIP, strconv.Itoa(cfg.SIPPort)),
		ContactHost: localIP,
		UserAgent:   "deskphone/" + o.Version,
		Lines:       lines,
		TrustedOnly: cfg.TrustedOnly,
		// RFC 4028 session timers (sip.session_expires; 0 = off).
		SessionExpires: cfg.SessionExpires,
		RingTimeout:    time.Duration(cfg.RingSeconds) * time.Second,
		// sip.100rel: reliable 180s for callers that support 100rel.
		Reliable100rel: cfg.Reliable100rel,
		// sip.tls_ca, sip.tls_cert, sip.tls_key: whom TLS servers must
		// chain to (a phone has no system roots) and the phone's own
		// certificate.
		TLSCA: []byte(cfg.TLSCA), TLSCert: []byte(cfg.TLSCert), TLSKey: []byte(cfg.TLSKey),
		Logf:  logf,
		Trace: trace.Hook,
		// A PBX's NOTIFY check-sync: re-fetch now (Resync never blocks).
		OnCheckSync: func(int) { prov.Resync() },
		OnMessageSummary: func(line int, waiting bool, n, o int) {
			select {
			case mwi <- phone.MWI{Line: line, Waiting: waiting, New: n, Old: o}:
			default:
				logf("app: message-summary for line %d dropped: the phone is behind", line)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	// PollReceive: the audio loop's Process reads the RTP sockets itself,
	// one wake-up a frame (DESIGN.md, "Wake-ups").
	rate := engineRate(f.codec, cfg)
	eng, err := audio.NewEngine(audio.Config{Rate: rate, Ptime: cfg.Ptime, Locale: cfg.TonesLocale, PollReceive: true})
	if err != nil {
		// The file asked for what this engine cannot do yet (a locale
		// without tone tables, a packet time it does not support): say so
		// and keep the phone working with the defaults.
		def := config.Default()
		step("audio: %v; using tones.locale=%s audio.ptime=%d instead", err, def.TonesLocale, def.Ptime)
		cfg.TonesLocale, cfg.Ptime = def.TonesLocale, def.Ptime
		if eng, err = audio.NewEngine(audio.Config{Rate: rate, Ptime: cfg.Ptime, Locale: cfg.TonesLocale, PollReceive: true}); err != nil {
			return fmt.Errorf("app: %w", err)
		}
	}
	// A second engine for the local three-way conference: the audio loop
	// mixes both while the phone says so.
	mix := &mixer{}
	eng2, err := audio.NewEngine(eng.Config())
	if err == nil {
		mix.conf, err = audio.NewConference(eng, eng2)
	}
	if err == nil {
		mix.second = eng2
	}
	if err != nil {
		step("audio: no conference: %v", err)
	}
	clock := newClock(o.Board.Name == "sim", logf)
	w := newWatcher(ctx, f.out, start, step, !o.SharedProcess)
	deps := phone.Deps{
		Config: cfg, UA: ua, Media: eng, Input: f.in, Out: w,
		MediaHost: mediaHost, BindIP: bindIP, Logf: logf, MWI: mwi, Clock: clock.Current, Notice: o.Notice,
	}
	if mix.conf != nil {
		deps.Second, deps.Mix = eng2, mix.on.Store
	}
	ph := phone.New(deps)
	if f.setStatus != nil {
		f.setStatus(ph.AppendStatus)
	}

	if err := ua.Start(ctx); err != nil {
		return fmt.Errorf("app: SIP: %w", err)
	}
	defer ua.Close()
	step("SIP on %s, %d line(s), media address %s", ua.LocalAddr(), len(lines), mediaHost)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var halted atomic.Bool
	if o.PowerCut != nil {
		go func() {
			select {
			case <-o.PowerCut:
				halted.Store(true)
				ua.Halt()
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		runClock(ctx, clock, ntpServers(cfg, ntpDHCP), step)
	}()
	go func() {
		defer wg.Done()
		if err := audioLoop(ctx, f.codec, eng, mix); err != nil && ctx.Err() == nil {
			logf("audio: %v; the phone goes on without audio", err)
		}
	}()
	newConfig := resync(ctx, prov, ph, cancel)
	newFirmware := new(atomic.Bool)
	if o.Firmware != nil {
		if !registers(lines) {
			w.confirm() // nothing to register with: SIP is up
		}
		newFirmware = firmwareUpdates(ctx, o, cfg, prov.Source.String(), ph.Idle, w.registered, cancel, step)
	}
	acts := &actions{ctx: ctx, prov: prov, idle: ph.Idle, stop: cancel, state: state, logf: step}
	if cfg.AdminPassword != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The page's downloads: the recent log and the SIP trace.
			serveWeb(ctx, o, cfg, dev, bindIP, state, prov, ph, acts, dl.Recent(), trace.Ring(), step)
		}()
	} else {
		step("web page: off (no admin.password)")
	}
	err = ph.Run(ctx)
	cancel()
	f.close() // unblocks the audio loop's Exchange
	wg.Wait()
	if halted.Load() {
		return nil
	}
	switch {
	case newFirmware.Load():
		ua.Close()
		return update.ErrRestart
	case acts.reboot.Load():
		ua.Close()
		return reboot(step)
	case newConfig.Load():
		ua.Close()
		step("provisioning: restarting to apply the new configuration")
		if o.Restart != nil {
			return o.Restart()
		}
		return provision.Restart()
	}
	return err
}

// registers reports whether any line registers (has a registrar).
func registers(lines []sipua.LineConfig) bool {
	for _, l := range lines {
		if l.Registrar != "" {
			return true
		}
	}
	return false
}

// engineRate is the rate the engine (and the handset codec) runs at:
// 16000 (wideband) where the codec takes it (hal.Wideband) and
// audio.wideband is on, else 8000, G.711's rate, byte for byte.
func engineRate(codec hal.Codec, cfg config.Config) int {
	if w, ok := codec.(hal.Wideband); ok && w.Wideband() && cfg.Wideband {
		return 16000
	}
	return 8000
}

// idleFrames is how many frames the engines stay inactive before the
// audio loop stops a codec that can stop: a tone that ends just before a
// stream starts (ringback, then the answer) does not stop and restart it.
const idleFrames = 10

// audioLoop moves one frame each way per codec period: the codec is the
// clock, the engine encodes the microphone and produces the earpiece, and
// (Config.PollReceive) reads the network, all in the one wake-up of the
// period. A codec that can stop (hal.PCM: ALSA, the virtual panel) is
// stopped while no engine is Active (on hook, no tone, no call) and the
// loop sleeps until one is; a codec that cannot runs all the time.
func audioLoop(ctx context.Context, codec hal.Codec, eng *audio.Engine, mix *mixer) error {
	if codec == nil {
		// A hardware board whose codec failed at start (logged there):
		// calls still ring, connect and hang up, without sound.
		return errors.New("the board has no working codec")
	}
	n := eng.FrameSamples()
	if err := codec.Open(eng.Config().Rate, n); err != nil {
		return err
	}
	mic := make([]int16, n)
	ear := make([]int16, n)
	pcm, _ := codec.(hal.PCM)
	var wake2 <-chan struct{} // nil: blocks forever
	if mix.second != nil {
		wake2 = mix.second.Activity()
	}
	active := func() bool { return eng.Active() || mix.second != nil && mix.second.Active() }
	process := func() {
		if mix.on.Load() { // a conference: both far ends (the mute holds there too)
			mix.conf.Process(mic, ear)
			return
		}
		eng.Process(mic, ear) // silence to the far end while muted
		if mix.second != nil {
			mix.second.Receive() // a stream left on it, unmixed
		}
	}
	idle := 0
	for ctx.Err() == nil {
		if pcm != nil && idle >= idleFrames {
			if err := pcm.Stop(); err != nil {
				return err
			}
			for !active() {
				select {
				case <-ctx.Done():
					return nil
				case <-eng.Activity():
				case <-wake2:
				}
			}
			idle = 0
			if err := pcm.Start(); err != nil {
				return err
			}
			// The first frame out is the one that woke the loop (dial
			// tone after hook off), not the one from before the stop.
			clear(mic)
			process()
		}
		if err := codec.Exchange(ear, mic); err != nil {
			return err
		}
		process()
		if active() {
			idle = 0
		} else {
			idle++
		}
	}
	return nil
}

// mixer says whether the audio loop mixes the phone's two engines (a
// local three-way conference).
type mixer struct {
	conf   *audio.Conference // nil: no second engine
	second *audio.Engine     // the conference's second engine, or nil
	on     atomic.Bool
}

// uaLines turns the configured lines into the user agent's: line 1 up to
// the first line without a user (a gap ends the list, and says so).
func uaLines(cfg config.Config, step func(string, ...any)) []sipua.LineConfig {
	var lines []sipua.LineConfig
	// media.srtp: the key's check (config.Validate) allows only its three
	// values, and not off only on lines over TLS.
	srtpMode, err := sipua.ParseSRTPMode(cfg.SRTP)
	if err != nil {
		step("media.srtp: %v; media in the clear", err)
	}
	for i, l := range cfg.Lines {
		if l.User == "" {
			for j := i + 1; j < len(cfg.Lines); j++ {
				if cfg.Lines[j].User != "" {
					step("line %d is set but line %d is not: lines after the gap are not used", j+1, i+1)
				}
			}
			break
		}
		lines = append(lines, sipua.LineConfig{
			User: l.User, Domain: l.Domain, DisplayName: l.DisplayName,
			AuthUser: l.AuthUser, Password: l.Password,
			Registrar: l.Registrar, OutboundProxy: l.OutboundProxy, Expires: l.Expires,
			Transport: l.Transport, SIPS: l.SIPS, SRTP: srtpMode,
		})
	}
	return lines
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

// sysHostname is the HOSTNAME the phone's syslog messages carry: its MAC
// as 12 hex digits (the name its own configuration file has, <mac>.cfg),
// else (the sim board) the host's name.
func sysHostname(mac net.HardwareAddr) string {
	if len(mac) > 0 {
		return fmt.Sprintf("%x", []byte(mac))
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return ""
}

// startSyslog resolves log.syslog's server off the boot path (a DNS name
// may take its time) and, once it has a socket, sends the log there too
// until ctx ends. A server that cannot be resolved is said once; the
// phone goes on without syslog. notice, the boot loader's note of a
// firmware rollback (logged before the configuration named the server),
// is sent again once syslog is up, so an administrator's log has it.
func startSyslog(ctx context.Context, dl *diag.Log, cfg diag.SyslogConfig, notice string, logf func(string, ...any)) {
	s, err := diag.DialSyslog(cfg)
	if err != nil {
		logf("app: error: log.syslog: %v; no syslog", err)
		return
	}
	dl.SetSyslog(s)
	logf("app: syslog to %v as %s (RFC 5424 over UDP)", s.Addr(), cfg.Hostname)
	if notice != "" {
		logf("firmware: warning: %s", notice)
	}
	<-ctx.Done()
	dl.SetSyslog(nil)
	s.Close()
}
