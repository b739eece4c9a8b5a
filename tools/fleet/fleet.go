package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/firmware/provision/tftpdtest"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/interop"
	"github.com/deskphone/deskphone/tools/perf"
	tprov "github.com/deskphone/deskphone/tools/provision"
)

// Options say how big a fleet to run.
type Options struct {
	N int // phones
	C int // concurrent calls (2C phones in calls); at most N/2
	// Sample is how many of the C calls get their audio checked (a tone
	// each way, measured in the far earpiece); default min(C, 4).
	Sample int
	// Spread is the window the phones boot in after the power comes back
	// (each at a random moment in it); default 1 s.
	Spread time.Duration
	// Phase bounds each phase (registering, the calls, the resync);
	// default 90 s.
	Phase time.Duration
	// Dir is the work folder; a temporary one, removed after, when empty.
	Dir string
	// Kamailio and TFTPD are the binaries (kamailio, in.tftpd); found on
	// PATH or in the sbin folders when empty.
	Kamailio, TFTPD string
	Logf            func(format string, args ...any)
	// Trace names extensions (20001 is the first phone) whose every log
	// line goes to Logf.
	Trace []string
}

// Report is a run's figures.
type Report struct {
	N, C, Sample int
	Boot         Storm // the first boot of every phone
	PowerCut     Storm // all N cut and booted again within Spread
	Calls        Calls
	Resync       Resync
	// Phones is this process (the N phones, their panels' clients and the
	// tool) and Kamailio its processes, over the calls' window.
	Phones, Kamailio Usage
	// PhonesIdle and KamailioIdle are over a few seconds with every phone
	// registered and on hook.
	PhonesIdle, KamailioIdle Usage
}

// Storm is what a fleet booting at once did to the registrar.
type Storm struct {
	Load string // /proc/loadavg at the start
	// AllRegistered is from the first phone's start to the last phone's
	// "registered"; P50 and P95 of each phone's own start to registered.
	AllRegistered, P50, P95 time.Duration
	Registered              int // phones registered at the end
	Failed                  int // phones not registered within the phase
	// At Kamailio: REGISTERs received, the most in one second, 401s sent,
	// 5xx sent, and REGISTERs received again with the same Call-ID and
	// CSeq (a retransmission: a request or its answer lost or late).
	Registers, PeakPerSec, Challenged, ServerErrors, Retransmitted int
	// At the phones: failed attempts (the line said failed) and new
	// attempts after a failure; TFTP retries at boot.
	RegFailures, RegRetries, ProvRetries int
	// Phones (this process) and Kamailio from the first boot to the last
	// registered.
	Phones, Kamailio Usage
}

// Calls is what the concurrent calls did.
type Calls struct {
	Load      string
	Up        int           // calls connected at both ends
	Failed    int           // calls that did not connect, or lost their audio check
	AudioOK   int           // sampled calls whose tones crossed both ways
	SetupTime time.Duration // from the first hook off to the last of the plain (unsampled) calls connected
	Failures  []string      // why, for the first few
}

// Resync is the resync storm: every phone told to resync at once.
type Resync struct {
	Load     string
	Notified int // check-sync NOTIFYs answered 200
	// NotifyResent counts NOTIFYs sent again for want of their 200 (lost
	// at Kamailio or on the way to the phone).
	NotifyResent int
	Done         int           // phones that fetched both files again (unchanged)
	Failed       int           // phones whose resync failed, or never finished
	All          time.Duration // from the first NOTIFY to the last phone done
	TFTPD        Usage         // in.tftpd and the transfers it forked, over All
}

// Usage is one process's (or a group's) CPU and memory over a window.
type Usage struct {
	Procs     int
	CPUMSPerS float64 // ms of CPU per second of the window (1000 = one core)
	RSSMB     float64 // resident, summed over the processes
	PerPhone  float64 // RSS per phone, KB (the phones' usage only, else 0)
	// HeapMB is the Go heap in use at the window's end (the phones' only:
	// runtime.MemStats.HeapInuse after a GC), what the phones hold; RSS
	// also counts what the runtime has not given back yet.
	HeapMB float64
}

func (o *Options) defaults() {
	if o.Sample == 0 {
		o.Sample = min(o.C, 4)
	}
	o.Sample = min(o.Sample, o.C)
	if o.Spread == 0 {
		o.Spread = time.Second
	}
	if o.Phase == 0 {
		o.Phase = 90 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// fleet is a running fleet: Kamailio, tftpd-hpa and the phones.
type fleet struct {
	o               Options
	dir             string
	k               *interop.Kamailio
	tftp            *tftpdtest.Server
	phones          []*phone
	held            []*testtool.Held
	sipPort, rtpMin int
	notifyPort      int
}

// Run runs the whole benchmark and returns its figures; it fails only when
// the fleet could not be started (a phase that goes wrong is in the
// Report: failed registrations, calls, resyncs).
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	if o.N < 2 || o.C < 0 || 2*o.C > o.N {
		return nil, fmt.Errorf("fleet: N %d, C %d: want N >= 2 and 2C <= N", o.N, o.C)
	}
	f := &fleet{o: o}
	defer f.close()
	if err := f.start(ctx); err != nil {
		return nil, err
	}
	r := &Report{N: o.N, C: o.C, Sample: o.Sample}

	o.Logf("fleet: booting %d phones within %v", o.N, o.Spread)
	r.Boot = f.storm(ctx)
	if r.Boot.Failed > 0 {
		return r, nil
	}
	r.PhonesIdle, r.KamailioIdle = f.measure(ctx, 3*time.Second, nil)

	o.Logf("fleet: power cut: %d phones stop at once and boot again within %v", o.N, o.Spread)
	for _, ph := range f.phones {
		close(ph.cut)
	}
	for _, ph := range f.phones {
		<-ph.done
	}
	r.PowerCut = f.storm(ctx)

	if o.C > 0 {
		o.Logf("fleet: %d concurrent calls, %d with their audio checked", o.C, o.Sample)
		r.Calls, r.Phones, r.Kamailio = f.calls(ctx)
	}
	o.Logf("fleet: resync storm: check-sync to every phone at once")
	r.Resync = f.resync(ctx)
	return r, nil
}

func (f *fleet) start(ctx context.Context) error {
	var err error
	if f.o.Kamailio == "" {
		if f.o.Kamailio, err = testtool.Find("kamailio"); err != nil {
			return err
		}
	}
	if f.o.TFTPD == "" {
		if f.o.TFTPD, err = testtool.Find("in.tftpd"); err != nil {
			return err
		}
	}
	f.dir = f.o.Dir
	if f.dir == "" {
		if f.dir, err = os.MkdirTemp("", "fleet"); err != nil {
			return err
		}
	}
	// Every phone has its own loopback address (127.77.x.y), as the
	// phones of a building have their own, and all use the same SIP port
	// and RTP range there, held from testtool so that nothing else on
	// the machine binds them on any address.
	ports, err := testtool.Hold(4) // Kamailio, tftpd, the phones' SIP port, the resync's NOTIFYs
	if err != nil {
		return err
	}
	rtp, err := testtool.HoldEven(10)
	if err != nil {
		return err
	}
	f.held = append(f.held, ports, rtp)
	kport, tport := ports.Base, ports.Base+1
	f.sipPort, f.rtpMin, f.notifyPort = ports.Base+2, rtp.Base, ports.Base+3

	users := map[string]string{}
	var csv bytes.Buffer
	csv.WriteString("mac,user,password,display_name\n")
	for i := range f.o.N {
		ph := &phone{
			ext:      fmt.Sprint(20001 + i),
			password: randomPassword(),
			mac:      net.HardwareAddr{0x52, 0x54, 0x00, byte(i >> 16), byte(i >> 8), byte(i)},
			ip:       fmt.Sprintf("127.77.%d.%d", i/200, 10+i%200),
			panel:    "unix:" + filepath.Join(f.dir, fmt.Sprintf("p%d.sock", i)),
		}
		if slices.Contains(f.o.Trace, ph.ext) {
			ph.trace = f.o.Logf
		}
		users[ph.ext] = ph.password
		fmt.Fprintf(&csv, "%s,%s,%s,Desk %s\n", ph.mac, ph.ext, ph.password, ph.ext)
		f.phones = append(f.phones, ph)
	}

	// The registrar: Kamailio with usrloc and digest auth, every phone a
	// subscriber.
	kdir := filepath.Join(f.dir, "kamailio")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		return err
	}
	cfg, err := interop.WriteKamailioConfig(kdir)
	if err != nil {
		return err
	}
	subs, err := interop.WriteSubscribers(kdir, users)
	if err != nil {
		return err
	}
	f.k, err = interop.StartKamailio(ctx, interop.KamailioOptions{Binary: f.o.Kamailio, Config: cfg, Dir: kdir, Port: kport,
		Defines: []string{"WITH_SUBSCRIBERS", subs}, SharedMB: kamailioMB(f.o.N)})
	if err != nil {
		return err
	}

	// The provisioning server: tftpd-hpa serving what tools/provision
	// writes from the CSV.
	tdir := filepath.Join(f.dir, "tftp")
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		return err
	}
	common := fmt.Sprintf(`# the fleet's common file (tools/fleet)
line.1.registrar = 127.0.0.1:%d
line.1.expires = 300
sip.port = %d
rtp.port_min = %d
rtp.port_max = %d
audio.codecs = PCMU
`, kport, f.sipPort, f.rtpMin, f.rtpMin+9)
	fl, err := tprov.Build(&csv, tprov.Options{CSVName: "fleet.csv", Common: []byte(common)})
	if err != nil {
		return err
	}
	if _, err := fl.Write(tdir, nil); err != nil {
		return err
	}
	f.tftp, err = tftpdtest.Serve(f.o.TFTPD, fmt.Sprintf("127.0.0.1:%d", tport), tdir)
	if err != nil {
		return err
	}
	f.o.Logf("fleet: Kamailio on %v (%d subscribers), tftpd-hpa on %s, phones on 127.77.x.y:%d", f.k.Addr, len(users), f.tftp.Addr, f.sipPort)
	return nil
}

// kamailioMB is Kamailio's shared memory for n phones: its default 32 MB
// ran out at 2000 (usrloc, tm's transactions of the storms and the
// message-summary SUBSCRIBEs it routes); 64 MB and 64 KB a phone.
func kamailioMB(n int) int { return 64 + n/16 }

func randomPassword() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (f *fleet) close() {
	for _, ph := range f.phones {
		if ph.cut != nil {
			select {
			case <-ph.cut:
			default:
				close(ph.cut)
			}
			<-ph.done
		}
	}
	if f.k != nil {
		f.k.Stop()
	}
	if f.tftp != nil {
		f.tftp.Stop()
	}
	for _, h := range f.held {
		h.Release()
	}
	if f.o.Dir == "" && f.dir != "" {
		os.RemoveAll(f.dir)
	}
}

// storm boots every phone at a random moment within Spread and waits
// (Phase at most) until each has registered.
func (f *fleet) storm(ctx context.Context) Storm {
	s := Storm{Load: perf.LoadAvg()}
	before := f.counters()
	ladderMark, logMark := len(f.k.Ladder()), len(f.k.Log())
	for _, ph := range f.phones {
		ph.regAt.Store(0)
	}
	selfA, kpids := f.sampleSelf(), f.kamailioPIDs()
	kA := samples(kpids)
	t0 := time.Now()
	started := make([]time.Time, len(f.phones))
	var wg sync.WaitGroup
	for i, ph := range f.phones {
		d := time.Duration(mrand.Int64N(int64(f.o.Spread)))
		started[i] = t0.Add(d)
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(d)
			ph.boot(ctx, f.tftp.Addr)
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(f.o.Phase)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		n := 0
		for _, ph := range f.phones {
			if ph.regAt.Load() != 0 {
				n++
			}
		}
		if n == len(f.phones) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var took []time.Duration
	var last time.Time
	for i, ph := range f.phones {
		at := ph.regAt.Load()
		if at == 0 {
			s.Failed++
			if s.Failed <= 3 {
				f.o.Logf("fleet: %s did not register; its last lines:\n%s", ph.ext, ph.lastLines())
			}
			continue
		}
		s.Registered++
		t := time.Unix(0, at)
		took = append(took, t.Sub(started[i]))
		if t.After(last) {
			last = t
		}
	}
	if s.Registered > 0 {
		s.AllRegistered = last.Sub(t0)
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		s.P50, s.P95 = took[len(took)/2], took[(len(took)*95)/100]
	}
	s.Phones, s.Kamailio = usageOf(selfA, f.sampleSelf(), len(f.phones)), usage(kA, samples(kpids))
	s.Phones.HeapMB = heapMB()
	f.o.Logf("fleet: %d goroutines", runtime.NumGoroutine())
	after := f.counters()
	s.RegFailures, s.RegRetries, s.ProvRetries = after.regFailures-before.regFailures, after.regRetries-before.regRetries, after.provRetries-before.provRetries
	time.Sleep(200 * time.Millisecond) // Kamailio's last lines
	perSec := map[int64]int{}
	for _, e := range f.k.Ladder()[ladderMark:] {
		switch {
		case e.Dir == "in" && e.Request && e.Method == "REGISTER":
			s.Registers++
			perSec[e.Time.Unix()]++
		case e.Dir == "out" && e.Method == "REGISTER" && e.Status == 401:
			s.Challenged++
		case e.Dir == "out" && e.Method == "REGISTER" && e.Status >= 500:
			s.ServerErrors++
		}
	}
	for _, n := range perSec {
		s.PeakPerSec = max(s.PeakPerSec, n)
	}
	s.Retransmitted = retransmissions(f.k.Log()[logMark:])
	return s
}

// retransmissions counts the REGSEQ|call-id|cseq lines (WITH_SUBSCRIBERS)
// that repeat an earlier one.
func retransmissions(log string) int {
	seen := map[string]bool{}
	n := 0
	for _, line := range strings.Split(log, "\n") {
		i := strings.Index(line, "REGSEQ|")
		if i < 0 {
			continue
		}
		k := strings.TrimSpace(line[i:])
		if seen[k] {
			n++
		}
		seen[k] = true
	}
	return n
}

type counters struct{ regFailures, regRetries, provRetries, resyncFails int }

func (f *fleet) counters() counters {
	var c counters
	for _, ph := range f.phones {
		c.regFailures += int(ph.regFailures.Load())
		c.regRetries += int(ph.regRetries.Load())
		c.provRetries += int(ph.provRetries.Load())
		c.resyncFails += int(ph.resyncFails.Load())
	}
	return c
}

// measure samples this process and Kamailio's over d, or until during
// returns when it is not nil (and at least d).
func (f *fleet) measure(ctx context.Context, d time.Duration, during func()) (phones, kam Usage) {
	selfA, kpids := f.sampleSelf(), f.kamailioPIDs()
	kA := samples(kpids)
	t0 := time.Now()
	if during != nil {
		during()
	}
	if rest := d - time.Since(t0); rest > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(rest):
		}
	}
	phones = usageOf(selfA, f.sampleSelf(), len(f.phones))
	phones.HeapMB = heapMB()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	f.o.Logf("fleet: heap sys %d MB idle %d released %d, stacks %d MB, sys %d MB", m.HeapSys>>20, m.HeapIdle>>20, m.HeapReleased>>20, m.StackInuse>>20, m.Sys>>20)
	return phones, usage(kA, samples(kpids))
}

// heapMB is the heap in use after a collection, in MB.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// sampleSelf samples this process: the phones, their panels' clients and
// the tool.
func (f *fleet) sampleSelf() []perf.Sample { return samples([]int{os.Getpid()}) }

// kamailioPIDs are Kamailio's main process and its workers.
func (f *fleet) kamailioPIDs() []int {
	return append([]int{f.k.PID()}, perf.Children(f.k.PID())...)
}

func samples(pids []int) []perf.Sample {
	var out []perf.Sample
	for _, p := range pids {
		if s, err := perf.ReadSample(p); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// usage sums the processes of a and b (the same processes, b later).
func usage(a, b []perf.Sample) Usage { return usageOf(a, b, 0) }

// usageOf is usage with the RSS per phone for a process of phones.
func usageOf(a, b []perf.Sample, phones int) Usage {
	u := Usage{Procs: len(b)}
	if len(a) == 0 || len(b) == 0 {
		return u
	}
	var ta, tb int64
	for _, s := range a {
		ta += s.CPUTicks + s.ChildTicks
	}
	for _, s := range b {
		tb += s.CPUTicks + s.ChildTicks
		u.RSSMB += float64(s.RSSKB) / 1024
	}
	if phones > 0 {
		u.PerPhone = u.RSSMB * 1024 / float64(phones)
	}
	if sec := b[0].At.Sub(a[0].At).Seconds(); sec > 0 {
		u.CPUMSPerS = float64(tb-ta) * 10 / sec // ticks of 10 ms (USER_HZ 100)
	}
	return u
}

// Check says whether the run carried the fleet: every phone registered
// (twice), every call up with its audio, every resync done.
func (r *Report) Check() error {
	var bad []string
	for _, s := range []struct {
		name string
		st   Storm
	}{{"boot", r.Boot}, {"power cut", r.PowerCut}} {
		if s.st.Failed > 0 || s.st.Registered != r.N {
			bad = append(bad, fmt.Sprintf("%s: %d of %d phones registered", s.name, s.st.Registered, r.N))
		}
	}
	if r.Calls.Failed > 0 || r.Calls.Up != r.C || r.Calls.AudioOK != r.Sample {
		bad = append(bad, fmt.Sprintf("calls: %d of %d up, %d failed, audio in %d of %d sampled: %s",
			r.Calls.Up, r.C, r.Calls.Failed, r.Calls.AudioOK, r.Sample, strings.Join(r.Calls.Failures, "; ")))
	}
	if r.Resync.Failed > 0 || r.Resync.Done != r.N {
		bad = append(bad, fmt.Sprintf("resync: %d of %d phones done, %d failed", r.Resync.Done, r.N, r.Resync.Failed))
	}
	if len(bad) > 0 {
		return errors.New("fleet: " + strings.Join(bad, "; "))
	}
	return nil
}

// Format prints the report as README's Fleet section shows it.
func (r *Report) Format() string {
	var b strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	fmt.Fprintf(&b, "fleet: N=%d phones, C=%d calls (%d with audio checked)\n", r.N, r.C, r.Sample)
	for _, s := range []struct {
		name string
		st   Storm
	}{{"boot", r.Boot}, {"power cut", r.PowerCut}} {
		st := s.st
		fmt.Fprintf(&b, "%-10s all %d registered after %s (per phone p50 %s, p95 %s); %d not registered; %s\n",
			s.name+":", st.Registered, ms(st.AllRegistered), ms(st.P50), ms(st.P95), st.Failed, st.Load)
		fmt.Fprintf(&b, "%-10s Kamailio got %d REGISTERs, peak %d/s, challenged (401) %d, retransmitted %d, 5xx %d; phones: %d failed attempts, %d retries, %d TFTP retries\n",
			"", st.Registers, st.PeakPerSec, st.Challenged, st.Retransmitted, st.ServerErrors, st.RegFailures, st.RegRetries, st.ProvRetries)
		fmt.Fprintf(&b, "%-10s phones %s; Kamailio %s\n", "", st.Phones.format(true), st.Kamailio.format(false))
	}
	fmt.Fprintf(&b, "idle:      phones %s; Kamailio %s\n", r.PhonesIdle.format(true), r.KamailioIdle.format(false))
	if r.C > 0 {
		c := r.Calls
		fmt.Fprintf(&b, "calls:     %d of %d up in %s, %d failed, audio both ways in %d of %d sampled; %s\n",
			c.Up, r.C, ms(c.SetupTime), c.Failed, c.AudioOK, r.Sample, c.Load)
		fmt.Fprintf(&b, "in calls:  phones %s; Kamailio %s\n", r.Phones.format(true), r.Kamailio.format(false))
		for _, why := range c.Failures {
			fmt.Fprintf(&b, "           failed: %s\n", why)
		}
	}
	rs := r.Resync
	fmt.Fprintf(&b, "resync:    %d notified (%d NOTIFYs sent again), %d fetched again in %s, %d failed; tftpd-hpa %.0f ms CPU/s over it; %s\n",
		rs.Notified, rs.NotifyResent, rs.Done, ms(rs.All), rs.Failed, rs.TFTPD.CPUMSPerS, rs.Load)
	return b.String()
}

func (u Usage) format(phones bool) string {
	s := fmt.Sprintf("%.0f ms CPU/s, %.1f MB RSS", u.CPUMSPerS, u.RSSMB)
	if phones {
		return s + fmt.Sprintf(" (%.0f KB a phone), Go heap in use %.1f MB", u.PerPhone, u.HeapMB)
	}
	return s + fmt.Sprintf(" (%d processes)", u.Procs)
}
