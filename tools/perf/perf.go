package perf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/interop"
	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/panelclient"
	"github.com/deskphone/deskphone/tools/pbx"
)

// Defaults of Options.
const (
	DefaultCall   = 25 * time.Second
	DefaultIdle   = 5 * time.Second
	DefaultSettle = time.Second
)

// The extensions: phoned 1001 calls 1002, baresip 1003 calls 1004.
const (
	phonedCaller, phonedCallee   = "1001", "1002"
	baresipCaller, baresipCallee = "1003", "1004"
)

// Options say how long to measure and where to work.
type Options struct {
	// Call is the window measured with both calls up; DefaultCall when 0.
	Call time.Duration
	// Idle is the window measured before the calls, every process
	// registered and on hook; DefaultIdle when 0.
	Idle time.Duration
	// Settle is the pause after both calls are up (and after registering)
	// before a window starts; DefaultSettle when 0.
	Settle time.Duration
	// Dir is the work folder (the lab's configs and consoles, baresip's
	// configs); a temporary one, removed after, when empty.
	Dir string
	// Baresip is baresip's binary; found on PATH when empty.
	Baresip string
	// Socket keeps the phones' sound card on their audio sockets (a
	// write and a read a frame, each a system call of the phone's)
	// instead of panel/4's shared audio file, for the comparison.
	Socket bool
	// Logf receives progress lines; nil is silent.
	Logf func(format string, args ...any)
}

// Proc is one measured process and its figures.
type Proc struct {
	Name string  `json:"name"` // "phoned" or "baresip"
	Ext  string  `json:"ext"`
	Role string  `json:"role"` // "caller" or "callee"
	PID  int     `json:"pid"`
	Idle Figures `json:"idle"` // registered, on hook, before the call
	Call Figures `json:"call"` // in the call
}

// Pair is what shows that a pair's call was really up.
type Pair struct {
	Name   string `json:"name"` // "phoned" or "baresip"
	Caller string `json:"caller"`
	Callee string `json:"callee"`
	// Answered: the PBX passed the callee's 200 OK to the INVITE back to
	// the caller and the caller's ACK on to the callee.
	Answered bool `json:"answered"`
	// Codec is the first format of the answer's m=audio line and its
	// ptime, from the 200 OK's SDP as the PBX saw it.
	Codec string `json:"codec"`
	// MediaOK: audio went both ways, as Media says (phoned: each earpiece
	// heard the other's tone; baresip: RTP sent and received on both
	// sides by their RTCP reports).
	MediaOK bool   `json:"media_ok"`
	Media   string `json:"media"`
	// FramePhase (phoned) is how long after a tick of the caller's frame
	// clock the callee's ticks, from the earpiece streams' arrivals. Two
	// phones on one machine whose frames run a moment apart on the same
	// processor share warm caches, and the second one's frames cost it
	// less than a phone alone pays (README, "The whole phone against
	// baresip").
	FramePhase time.Duration `json:"frame_phase_ns,omitempty"`
}

// Ratio is phoned's figure over baresip's, for the two processes of a
// role; 0 where baresip's is 0.
type Ratio struct {
	Role        string  `json:"role"`
	RSS         float64 `json:"rss"`
	Anon        float64 `json:"anon"`
	File        float64 `json:"file"`
	Working     float64 `json:"working"`
	HWM         float64 `json:"hwm"`
	Threads     float64 `json:"threads"`
	CPU         float64 `json:"cpu"`
	Sched       float64 `json:"sched"`
	Wakeups     float64 `json:"wakeups"`
	IdleCPU     float64 `json:"idle_cpu"`
	IdleSched   float64 `json:"idle_sched"`
	IdleWakeups float64 `json:"idle_wakeups"`
}

// Report is a run's result.
type Report struct {
	CallSeconds float64 `json:"call_seconds"` // the call window, as measured
	IdleSeconds float64 `json:"idle_seconds"`
	LoadBefore  string  `json:"load_before"` // /proc/loadavg when the run started
	LoadAfter   string  `json:"load_after"`  // and when the call window ended
	// SoundCard is how the phones' audio went to this tool: "shared
	// file" (panel/4) or "socket" (Options.Socket).
	SoundCard string `json:"sound_card"`
	// Procs: phoned caller, phoned callee, baresip caller, baresip callee.
	Procs  []Proc  `json:"procs"`
	Pairs  []Pair  `json:"pairs"` // phoned, baresip
	Ratios []Ratio `json:"ratios"`
}

// Check says whether the run measured what it set out to: both calls
// answered with audio both ways, and every figure read.
func (r *Report) Check() error {
	var bad []string
	for _, p := range r.Pairs {
		if !p.Answered {
			bad = append(bad, fmt.Sprintf("%s %s->%s: not answered at the PBX", p.Name, p.Caller, p.Callee))
		}
		if !p.MediaOK {
			bad = append(bad, fmt.Sprintf("%s %s->%s: no audio both ways (%s)", p.Name, p.Caller, p.Callee, p.Media))
		}
	}
	// In a call every process works each frame; idle, a process may
	// sleep the whole window (baresip does).
	for _, p := range r.Procs {
		for _, w := range []struct {
			name string
			f    Figures
			busy bool
		}{{"idle", p.Idle, false}, {"call", p.Call, true}} {
			f := w.f
			sane := f.Seconds > 0 && f.RSSKB > 0 && f.HWMKB >= f.RSSKB && f.Threads > 0 &&
				f.WorkingKB >= 0 &&
				f.CPUMSPerSec >= 0 && f.SchedMSPerSec >= 0 && f.WakeupsPerSec >= 0
			if w.busy {
				sane = sane && f.SchedMSPerSec > 0 && f.WakeupsPerSec > 0 && f.WorkingKB > 0
			}
			if !sane {
				bad = append(bad, fmt.Sprintf("%s %s %s: figures not sane: %+v", p.Name, p.Ext, w.name, f))
			}
		}
	}
	if len(r.Procs) != 4 || len(r.Pairs) != 2 {
		bad = append(bad, fmt.Sprintf("%d processes, %d pairs", len(r.Procs), len(r.Pairs)))
	}
	if len(bad) > 0 {
		return fmt.Errorf("perf: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Run starts the development PBX with two sim-board phones and two
// baresips, measures them idle, puts each pair in a call (phoned 1001 to
// 1002, baresip 1003 to 1004), measures both calls over the same window,
// and hangs up.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Call <= 0 {
		o.Call = DefaultCall
	}
	if o.Idle <= 0 {
		o.Idle = DefaultIdle
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Baresip == "" {
		p, err := testtool.Find("baresip")
		if err != nil {
			return nil, fmt.Errorf("perf: %w (tools/setup/install-deps.sh installs it)", err)
		}
		o.Baresip = p
	}
	mods := interop.BaresipModules()
	if mods == "" {
		return nil, errors.New("perf: baresip's modules (g711.so) not found")
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "deskphone-perf-")
		if err != nil {
			return nil, fmt.Errorf("perf: %w", err)
		}
		defer os.RemoveAll(d)
		o.Dir = d
	}
	r := &Report{LoadBefore: LoadAvg()}

	o.Logf("perf: starting the development PBX and two sim phones (%s, %s)", phonedCaller, phonedCallee)
	// Like for like with baresip's lean set-up: G.711 with the handset at
	// 8 kHz (no resampling on either side).
	narrow := "audio.codecs = PCMU,PCMA\naudio.wideband = off\n"
	l, err := lab.Start(ctx, lab.Options{Board: lab.Sim, Exts: []string{phonedCaller, phonedCallee},
		Dir: filepath.Join(o.Dir, "lab"), Logf: o.Logf,
		PhoneConfig: map[string]string{phonedCaller: narrow, phonedCallee: narrow}})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	o.Logf("perf: starting two baresips (%s, %s)", baresipCaller, baresipCallee)
	bc, err := startBaresip(ctx, o, mods, baresipCaller, l.PBX.Addr(), false)
	if err != nil {
		return nil, err
	}
	defer bc.stop()
	be, err := startBaresip(ctx, o, mods, baresipCallee, l.PBX.Addr(), true)
	if err != nil {
		return nil, err
	}
	defer be.stop()

	if _, err := l.WaitRegistered(ctx); err != nil {
		return nil, err
	}
	for _, ext := range []string{baresipCaller, baresipCallee} {
		if err := l.PBX.WaitRegistered(ctx, ext); err != nil {
			return nil, fmt.Errorf("perf: baresip %s: %w", ext, err)
		}
	}
	pa, pe := l.Phones[0], l.Phones[1]
	// This tool is the phones' sound card: it takes their earpieces in
	// batches, since a read woken by every frame would preempt the phone
	// that wrote it (the kernel puts a local socket's reader on the
	// writer's processor), a cost of this tool's that no codec chip has
	// and that baresip's aubridge, inside its process, does not pay. And
	// it shares their audio through a file (panel/4), as a codec chip
	// shares its DMA ring with its driver and aubridge its buffers with
	// baresip: a frame costs the phone no system call to a sound card
	// (unless Socket).
	r.SoundCard = "shared file"
	if o.Socket {
		r.SoundCard = "socket"
	}
	for _, ph := range []*lab.Phone{pa, pe} {
		ph.Panel.SetEarpieceBatch(panelclient.MeasureBatch)
		if !o.Socket {
			if err := ph.Panel.ShareAudio(ctx, panelclient.MeasureBatch); err != nil {
				return nil, fmt.Errorf("perf: phoned %s: %w", ph.Ext, err)
			}
		}
	}
	r.Procs = []Proc{
		{Name: "phoned", Ext: pa.Ext, Role: "caller", PID: pa.PID()},
		{Name: "phoned", Ext: pe.Ext, Role: "callee", PID: pe.PID()},
		{Name: "baresip", Ext: bc.ext, Role: "caller", PID: bc.b.PID()},
		{Name: "baresip", Ext: be.ext, Role: "callee", PID: be.b.PID()},
	}
	// The phones settle once, a couple of seconds after registering
	// (firmware/app's settle: a collection, the start's pages let go);
	// the idle window is the phone after that, as it stays.
	settledRE := regexp.MustCompile(`settled after start`)
	for _, ph := range []string{pa.Ext, pe.Ext} {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := l.WaitConsole(wctx, ph, settledRE, 1)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("perf: %w", err)
		}
	}
	if err := sleep(ctx, o.Settle); err != nil {
		return nil, err
	}

	o.Logf("perf: idle, registered and on hook, for %v", o.Idle)
	idle, err := measure(ctx, r.Procs, o.Idle)
	if err != nil {
		return nil, err
	}
	for i := range r.Procs {
		r.Procs[i].Idle = idle[i]
	}
	r.IdleSeconds = idle[0].Seconds

	o.Logf("perf: baresip %s calls %s", bc.ext, be.ext)
	bmark, emark := bc.c.mark(), be.c.mark()
	if _, err := bc.c.command(ctx, "dial", "sip:"+be.ext+"@"+l.PBX.Addr().String()); err != nil {
		return nil, err
	}
	for _, s := range []*bside{bc, be} {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := s.c.waitEvent(wctx, map[*bside]int{bc: bmark, be: emark}[s], "CALL_ESTABLISHED")
		cancel()
		if err != nil {
			return nil, fmt.Errorf("perf: baresip %s: %w", s.ext, err)
		}
	}
	o.Logf("perf: phoned %s calls %s", pa.Ext, pe.Ext)
	stopTones, err := phonedCall(ctx, pa, pe)
	if err != nil {
		return nil, err
	}
	defer stopTones()
	if err := sleep(ctx, o.Settle); err != nil {
		return nil, err
	}

	o.Logf("perf: both calls up; measuring for %v", o.Call)
	call, err := measure(ctx, r.Procs, o.Call)
	if err != nil {
		return nil, err
	}
	r.LoadAfter = LoadAvg()
	for i := range r.Procs {
		r.Procs[i].Call = call[i]
	}
	r.CallSeconds = call[0].Seconds

	// Evidence that both calls were up with audio both ways.
	ph := Pair{Name: "phoned", Caller: pa.Ext, Callee: pe.Ext}
	ph.MediaOK, ph.Media, ph.FramePhase, err = phonedMedia(pa, pe)
	if err != nil {
		return nil, err
	}
	bp := Pair{Name: "baresip", Caller: bc.ext, Callee: be.ext}
	bp.MediaOK, bp.Media = baresipMedia(ctx, []*bside{bc, be}, []int{bmark, emark})

	o.Logf("perf: hanging up")
	stopTones()
	if err := phonedHangUp(ctx, pa, pe); err != nil {
		return nil, err
	}
	bmark, emark = bc.c.mark(), be.c.mark()
	if _, err := bc.c.command(ctx, "hangup", ""); err != nil {
		return nil, err
	}
	for _, s := range []*bside{bc, be} {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := s.c.waitEvent(wctx, map[*bside]int{bc: bmark, be: emark}[s], "CALL_CLOSED")
		cancel()
		if err != nil {
			o.Logf("perf: baresip %s: %v", s.ext, err)
		}
	}
	ladder := l.PBX.Ladder()
	ph.Answered, ph.Codec = answered(ladder, ph.Caller, ph.Callee)
	bp.Answered, bp.Codec = answered(ladder, bp.Caller, bp.Callee)
	r.Pairs = []Pair{ph, bp}
	for i := 0; i < 2; i++ {
		r.Ratios = append(r.Ratios, ratio(r.Procs[i], r.Procs[i+2]))
	}
	return r, nil
}

// measure samples every process and clears its pages' referenced bits,
// waits d, samples them again and returns each one's figures over the
// window, its working set among them.
func measure(ctx context.Context, procs []Proc, d time.Duration) ([]Figures, error) {
	a := make([]Sample, len(procs))
	for i, p := range procs {
		s, err := ReadSample(p.PID)
		if err != nil {
			return nil, fmt.Errorf("perf: %s %s: %w", p.Name, p.Ext, err)
		}
		if err := ClearRefs(p.PID); err != nil {
			return nil, fmt.Errorf("perf: %s %s: %w", p.Name, p.Ext, err)
		}
		a[i] = s
	}
	if err := sleep(ctx, d); err != nil {
		return nil, err
	}
	out := make([]Figures, len(procs))
	for i, p := range procs {
		s, err := ReadSample(p.PID)
		if err != nil {
			return nil, fmt.Errorf("perf: %s %s: %w", p.Name, p.Ext, err)
		}
		out[i] = Diff(a[i], s)
	}
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("perf: %w", ctx.Err())
	}
}

// bside is one running baresip and its ctrl_tcp connection.
type bside struct {
	ext  string
	b    *interop.Baresip
	c    *ctrl
	held []*testtool.Held
}

// startBaresip starts baresip registered as ext with the PBX, on ports
// held for it (SIP, the TLS port above it that baresip also binds, its
// ctrl_tcp port; ten RTP ports), and connects to its ctrl_tcp. The callee
// answers calls itself (answermode=auto).
func startBaresip(ctx context.Context, o Options, mods, ext string, pbxAddr *net.UDPAddr, callee bool) (*bside, error) {
	s := &bside{ext: ext}
	sip, err := testtool.Hold(3)
	if err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	s.held = append(s.held, sip)
	rtp, err := testtool.HoldEven(10)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("perf: %w", err)
	}
	s.held = append(s.held, rtp)
	dir := filepath.Join(o.Dir, "baresip-"+ext)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.stop()
		return nil, fmt.Errorf("perf: %w", err)
	}
	ctrlPort := sip.Base + 2
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=600", ext, pbxAddr, pbx.DefaultUsers()[ext])
	if callee {
		account += ";answermode=auto"
	}
	lifetime := o.Idle + o.Call + 2*o.Settle + 2*time.Minute
	s.b, err = interop.StartBaresip(ctx, interop.BaresipOptions{Binary: o.Baresip, Dir: dir,
		SIPPort: sip.Base, RTPMin: rtp.Base, RTPMax: rtp.Base + 9, Account: account,
		Lifetime: lifetime, Quiet: true,
		Config: leanConfig(sip.Base, ctrlPort, rtp.Base, rtp.Base+9, dir, mods)})
	if err != nil {
		s.stop()
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-s.b.Done():
			cancel()
		case <-cctx.Done():
		}
	}()
	s.c, err = dialCtrl(cctx, fmt.Sprintf("127.0.0.1:%d", ctrlPort))
	if err != nil {
		err = fmt.Errorf("%w; baresip's output:\n%s", err, s.b.Log())
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *bside) stop() {
	if s.c != nil {
		s.c.close()
		s.c = nil
	}
	if s.b != nil {
		s.b.Stop()
		s.b = nil
	}
	for _, h := range s.held {
		h.Release()
	}
	s.held = nil
}

// toneAmp is the amplitude of the tones put into the phones' microphones
// (0.3 of full scale, as tools/lab's basic call).
const toneAmp = 9830

// phonedCall makes a's call to b through the panels: a lifts the handset
// and dials, b rings and answers; each microphone gets a tone (until the
// returned stop). It returns once both say connected.
func phonedCall(ctx context.Context, a, b *lab.Phone) (stop func(), err error) {
	ma, mb := a.Panel.Mark(), b.Panel.Mark()
	wait := func(ph *lab.Phone, mark int, re string) error {
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if _, err := ph.Panel.WaitAfter(wctx, mark, regexp.MustCompile(re)); err != nil {
			return fmt.Errorf("perf: phone %s waiting for %q: %w", ph.Ext, re, err)
		}
		return nil
	}
	if err := a.Panel.Send("hook off"); err != nil {
		return nil, err
	}
	if err := wait(a, ma, `^tone dial$`); err != nil {
		return nil, err
	}
	if err := a.Panel.Send("dial " + b.Ext); err != nil {
		return nil, err
	}
	if err := wait(b, mb, `^ring on`); err != nil {
		return nil, err
	}
	pctx, stop := context.WithCancel(context.Background())
	go a.Panel.PlayTone(pctx, lab.ToneAtoB, toneAmp)
	go b.Panel.PlayTone(pctx, lab.ToneBtoA, toneAmp)
	mb = b.Panel.Mark()
	if err := b.Panel.Send("hook off"); err != nil {
		stop()
		return nil, err
	}
	for _, w := range []struct {
		ph   *lab.Phone
		mark int
	}{{b, mb}, {a, ma}} {
		if err := wait(w.ph, w.mark, `^phone connected$`); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}

// phonedMedia records a second of each earpiece and says whether each
// phone heard the other's tone, and how long after a tick of a's frame
// clock b's ticks. For that the panels take each earpiece frame as it
// comes (after the call window: a reader woken by every frame preempts the
// phone that wrote it, as the batches avoid).
func phonedMedia(a, b *lab.Phone) (bool, string, time.Duration, error) {
	for _, ph := range []*lab.Phone{a, b} {
		if err := ph.Panel.UnshareAudio(context.Background()); err != nil {
			return false, "", 0, fmt.Errorf("perf: phoned %s: %w", ph.Ext, err)
		}
		ph.Panel.SetEarpieceBatch(0)
	}
	// A batch's wait ends within MeasureBatch; the reads after it are the
	// frames'.
	time.Sleep(2 * panelclient.MeasureBatch)
	type rec struct {
		s   []int16
		c   *lab.FrameClock
		err error
	}
	ra, rb := make(chan rec, 1), make(chan rec, 1)
	go func() { s, c, err := lab.RecordClocked(a, time.Second); ra <- rec{s, c, err} }()
	go func() { s, c, err := lab.RecordClocked(b, time.Second); rb <- rec{s, c, err} }()
	xa, xb := <-ra, <-rb
	if xa.err != nil || xb.err != nil {
		return false, "", 0, fmt.Errorf("perf: recording the earpieces: %v %v", xa.err, xb.err)
	}
	phase := lab.Phase(xa.c, xb.c)
	aHears, aOther := audio.ToneLevel(xa.s, lab.ToneBtoA, 8000), audio.ToneLevel(xa.s, lab.ToneAtoB, 8000)
	bHears, bOther := audio.ToneLevel(xb.s, lab.ToneAtoB, 8000), audio.ToneLevel(xb.s, lab.ToneBtoA, 8000)
	ok := aHears >= lab.MinLevel && aHears >= 10*aOther && bHears >= lab.MinLevel && bHears >= 10*bOther
	return ok, fmt.Sprintf("%s hears %.0f Hz at level %.3f, %s hears %.0f Hz at %.3f; %s's frames %.1f ms after %s's",
		b.Ext, lab.ToneAtoB, bHears, a.Ext, lab.ToneBtoA, aHears, b.Ext, float64(phase)/float64(time.Millisecond), a.Ext), phase, nil
}

// phonedHangUp: a hangs up, b sees the call end and hangs up too.
func phonedHangUp(ctx context.Context, a, b *lab.Phone) error {
	ma, mb := a.Panel.Mark(), b.Panel.Mark()
	if err := a.Panel.Send("hook on"); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := a.Panel.WaitAfter(wctx, ma, regexp.MustCompile(`^phone idle$`)); err != nil {
		return fmt.Errorf("perf: phone %s: %w", a.Ext, err)
	}
	if _, err := b.Panel.WaitAfter(wctx, mb, regexp.MustCompile(`^call \d+ ended:`)); err != nil {
		return fmt.Errorf("perf: phone %s: %w", b.Ext, err)
	}
	return b.Panel.Send("hook on")
}

// baresipMedia waits (up to 10 s, as RTCP reports come every few seconds)
// for an RTCP report on each side, since its mark, in which it has sent
// RTP and its peer says it has too.
func baresipMedia(ctx context.Context, sides []*bside, marks []int) (bool, string) {
	ok := true
	var say []string
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	both := func(m ctrlMsg) bool {
		return m.Event && m.Type == "CALL_RTCP" && m.RTCPStats != nil && m.RTCPStats.TX.Sent > 0 && m.RTCPStats.RX.Sent > 0
	}
	for i, s := range sides {
		if _, err := s.c.wait(wctx, marks[i], "an RTCP report with packets both ways", both); err != nil {
			ok = false
			say = append(say, fmt.Sprintf("%s: %v", s.ext, err))
			continue
		}
		m := s.c.last(marks[i], both)
		say = append(say, fmt.Sprintf("%s sent %d RTP packets, its peer %d (its last RTCP report)", s.ext, m.RTCPStats.TX.Sent, m.RTCPStats.RX.Sent))
	}
	return ok, strings.Join(say, "; ")
}

// answered finds the call from caller to callee in the PBX's ladder: the
// callee's 200 OK to the INVITE passed back to the caller and the
// caller's ACK passed on. codec is the answer's first audio format and
// its ptime.
func answered(ladder []pbx.Entry, caller, callee string) (ok bool, codec string) {
	callID := ""
	for _, e := range ladder {
		if e.Dir == "in" && e.Request && e.Method == "INVITE" && e.From == caller && e.To == callee {
			callID = e.CallID
			break
		}
	}
	if callID == "" {
		return false, ""
	}
	var ok200, ack bool
	for _, e := range ladder {
		if e.CallID != callID || e.Dir != "out" {
			continue
		}
		if !e.Request && e.Method == "INVITE" && e.Status == 200 {
			if !ok200 {
				codec = sdpCodec(e.Raw)
			}
			ok200 = true
		}
		if e.Request && e.Method == "ACK" && ok200 {
			ack = true
		}
	}
	return ok200 && ack, codec
}

// sdpCodec returns "NAME/RATE ptime N" of a message's SDP body: the first
// format of its m=audio line.
func sdpCodec(raw []byte) string {
	_, body, ok := strings.Cut(string(raw), "\r\n\r\n")
	if !ok {
		return ""
	}
	var pt, ptime string
	names := map[string]string{"0": "PCMU/8000", "8": "PCMA/8000"}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "m=audio "):
			if f := strings.Fields(line); len(f) > 3 {
				pt = f[3]
			}
		case strings.HasPrefix(line, "a=rtpmap:"):
			if f := strings.Fields(strings.TrimPrefix(line, "a=rtpmap:")); len(f) == 2 {
				names[f[0]] = f[1]
			}
		case strings.HasPrefix(line, "a=ptime:"):
			ptime = strings.TrimPrefix(line, "a=ptime:")
		}
	}
	if pt == "" {
		return ""
	}
	name := names[pt]
	if name == "" {
		name = "payload type " + pt
	}
	if ptime == "" {
		return name + ", no ptime (20 ms by default)"
	}
	if _, err := strconv.Atoi(ptime); err == nil {
		ptime += " ms"
	}
	return name + ", ptime " + ptime
}

func ratio(p, b Proc) Ratio {
	div := func(x, y float64) float64 {
		if y == 0 {
			return 0
		}
		return x / y
	}
	return Ratio{Role: p.Role,
		RSS:         div(float64(p.Call.RSSKB), float64(b.Call.RSSKB)),
		Anon:        div(float64(p.Call.AnonKB), float64(b.Call.AnonKB)),
		File:        div(float64(p.Call.FileKB), float64(b.Call.FileKB)),
		Working:     div(float64(p.Call.WorkingKB), float64(b.Call.WorkingKB)),
		HWM:         div(float64(p.Call.HWMKB), float64(b.Call.HWMKB)),
		Threads:     div(float64(p.Call.Threads), float64(b.Call.Threads)),
		CPU:         div(p.Call.CPUMSPerSec, b.Call.CPUMSPerSec),
		Sched:       div(p.Call.SchedMSPerSec, b.Call.SchedMSPerSec),
		Wakeups:     div(p.Call.WakeupsPerSec, b.Call.WakeupsPerSec),
		IdleCPU:     div(p.Idle.CPUMSPerSec, b.Idle.CPUMSPerSec),
		IdleSched:   div(p.Idle.SchedMSPerSec, b.Idle.SchedMSPerSec),
		IdleWakeups: div(p.Idle.WakeupsPerSec, b.Idle.WakeupsPerSec),
	}
}
