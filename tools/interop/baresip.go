package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/wav"
)

// BaresipOptions say how to start baresip.
type BaresipOptions struct {
	Binary string
	Dir    string // its configuration folder (written here) and its dumps
	// SIPPort is its UDP port on 127.0.0.1; RTPMin-RTPMax its media ports.
	SIPPort, RTPMin, RTPMax int
	// Account is one line of baresip's accounts file, e.g.
	// "<sip:1003@127.0.0.1:5060>;auth_pass=pw1003;answermode=auto;regint=60".
	Account string
	// SineHz is the frequency of the sine baresip sends (its ausine
	// source); it answers calls itself when the account says answermode=auto.
	SineHz int
	// Lifetime bounds the process (baresip -t); default 60 s.
	Lifetime time.Duration
	// Commands are typed at start (baresip -e, as keys: "dsip:1001@HOST"
	// dials that URI).
	Commands []string
	// Config, when set, is written as baresip's config file instead of the
	// one made from the fields above (SineHz, the ports), for a caller that
	// wants other modules or audio devices (tools/perf); module_path is
	// then its business (BaresipModules).
	Config string
	// Quiet starts it without -v: no debug lines on its output.
	Quiet bool
	// Modules are more modules to load, e.g. "srtp.so" (SDES SRTP: the
	// account's ;mediaenc=srtp-mand then makes its calls RTP/SAVP).
	Modules []string
	// TLSCert, when set, is a PEM file of baresip's certificate and key:
	// it then also listens for SIP over TLS on SIPPort+1
	// (sip_certificate), trusting the CAs of CAFile (sip_cafile).
	TLSCert, CAFile string
	// Codecs are audio codec modules loaded before g711.so, so that
	// baresip offers and prefers them in this order (e.g. "g722.so",
	// wideband: a 16 kHz call, the 8000 Hz RTP clock of RFC 3551 4.5.2).
	Codecs []string
}

// Baresip is a running baresip.
type Baresip struct {
	cmd  *exec.Cmd
	done chan struct{}
	dir  string

	mu    sync.Mutex
	log   strings.Builder
	lines chan struct{} // nudged on every log line
}

// BaresipModules returns the folder of baresip's modules ("" if not found).
func BaresipModules() string {
	for _, pat := range []string{"/usr/lib/baresip/modules", "/usr/lib/*/baresip/modules", "/usr/local/lib/baresip/modules"} {
		m, _ := filepath.Glob(pat)
		for _, d := range m {
			if _, err := os.Stat(filepath.Join(d, "g711.so")); err == nil {
				return d
			}
		}
	}
	return ""
}

// baresipConfig is baresip's config file: G.711 (after o.Codecs' modules,
// if any), a sine at 48 kHz stereo (what ausine supports; baresip
// resamples to the codec's rate, mono) as the
// microphone, the earpiece into aubridge (a sink while nothing reads it),
// what it receives dumped into WAV files (sndfile), SIP and RTP on the
// loopback only.
func baresipConfig(o BaresipOptions, mods string) string {
	var extra strings.Builder
	for _, m := range o.Modules {
		fmt.Fprintf(&extra, "module\t\t\t%s\n", m)
	}
	if o.TLSCert != "" {
		fmt.Fprintf(&extra, "sip_certificate\t\t%s\n", o.TLSCert)
	}
	if o.CAFile != "" {
		fmt.Fprintf(&extra, "sip_cafile\t\t%s\n", o.CAFile)
	}
	var codecs strings.Builder
	for _, m := range o.Codecs {
		fmt.Fprintf(&codecs, "module\t\t\t%s\n", m)
	}
	return fmt.Sprintf(`poll_method		epoll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
call_local_timeout	30
call_max_calls		2
audio_player		aubridge,sink
audio_source		ausine,%d
audio_alert		aubridge,alert
ausrc_srate		48000
ausrc_channels		2
auplay_srate		48000
auplay_channels		2
audio_level		no
rtp_ports		%d-%d
rtcp_mux		no
jitter_buffer_delay	1-10
module_path		%s
%smodule			g711.so
module			ausine.so
module			aubridge.so
module			sndfile.so
module_app		account.so
module_app		menu.so
snd_path		%s
%s`, o.SIPPort, o.SineHz, o.RTPMin, o.RTPMax, mods, codecs.String(), o.Dir, extra.String())
}

// StartBaresip writes baresip's configuration into o.Dir and starts it
// (baresip -f DIR -t LIFETIME, with -v unless Quiet), with its log kept for
// Log and WaitLog.
func StartBaresip(ctx context.Context, o BaresipOptions) (*Baresip, error) {
	mods := BaresipModules()
	if mods == "" {
		return nil, errors.New("interop: baresip's modules (g711.so) not found")
	}
	for _, m := range o.Codecs {
		if _, err := os.Stat(filepath.Join(mods, m)); err != nil {
			return nil, fmt.Errorf("interop: baresip's module %s not found in %s", m, mods)
		}
	}
	if o.Lifetime == 0 {
		o.Lifetime = 60 * time.Second
	}
	config := o.Config
	if config == "" {
		config = baresipConfig(o, mods)
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "config"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "accounts"), []byte(o.Account+"\n"), 0o644); err != nil {
		return nil, err
	}
	// -t ends it after the lifetime even if nobody stops it.
	args := []string{"-f", o.Dir, "-t", strconv.Itoa(int(o.Lifetime.Seconds()))}
	if !o.Quiet {
		args = append(args, "-v")
	}
	for _, c := range o.Commands {
		args = append(args, "-e", c)
	}
	cmd := exec.Command(o.Binary, args...)
	cmd.Dir = o.Dir
	ownGroup(cmd)
	cmd.Stdin = nil
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	b := &Baresip{cmd: cmd, done: make(chan struct{}), dir: o.Dir, lines: make(chan struct{}, 1)}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("interop: baresip: %w", err)
	}
	go func() {
		b.read(out)
		cmd.Wait()
		close(b.done)
	}()
	return b, nil
}

func (b *Baresip) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		b.mu.Lock()
		b.log.WriteString(sc.Text())
		b.log.WriteByte('\n')
		b.mu.Unlock()
		select {
		case b.lines <- struct{}{}:
		default:
		}
	}
}

// PID is baresip's process ID.
func (b *Baresip) PID() int { return b.cmd.Process.Pid }

// Done is closed when baresip has exited.
func (b *Baresip) Done() <-chan struct{} { return b.done }

// Log returns baresip's output so far.
func (b *Baresip) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.log.String()
}

// WaitLog waits until baresip's output matches re.
func (b *Baresip) WaitLog(ctx context.Context, re *regexp.Regexp) error {
	for {
		if re.MatchString(b.Log()) {
			return nil
		}
		select {
		case <-b.lines:
		case <-b.done:
			if re.MatchString(b.Log()) {
				return nil
			}
			return fmt.Errorf("interop: baresip exited before %q", re)
		case <-ctx.Done():
			return fmt.Errorf("interop: baresip: waiting for %q: %w", re, ctx.Err())
		}
	}
}

// WaitRegistered waits until baresip's log says its account for user
// registered (a 200 OK for user@127.0.0.1).
func (b *Baresip) WaitRegistered(ctx context.Context, user string) error {
	return b.WaitLog(ctx, regexp.MustCompile(`(?i)`+regexp.QuoteMeta(user)+`@127\.0\.0\.1.*200 OK`))
}

// Dumps returns the WAV files sndfile wrote (what baresip decoded and
// encoded).
func (b *Baresip) Dumps() []string {
	m, _ := filepath.Glob(filepath.Join(b.dir, "*.wav"))
	return m
}

// Decoded waits until baresip's call is over (its audio destroyed) and
// returns the last seconds of what it decoded (its sndfile -dec.wav dump)
// and their sample rate.
func (b *Baresip) Decoded(ctx context.Context, seconds int) ([]int16, int, error) {
	if err := b.WaitLog(ctx, regexp.MustCompile(`audio: destroyed`)); err != nil {
		return nil, 0, err
	}
	dec := ""
	for _, f := range b.Dumps() {
		if strings.HasSuffix(f, "-dec.wav") {
			dec = f
		}
	}
	if dec == "" {
		return nil, 0, fmt.Errorf("interop: no decode dump among %v", b.Dumps())
	}
	rx, rate, err := wav.Read(dec)
	if err != nil {
		return nil, 0, err
	}
	if n := seconds * rate; len(rx) > n {
		rx = rx[len(rx)-n:]
	}
	return rx, rate, nil
}

// Stop ends baresip (SIGTERM to its process group, SIGKILL after 3 s).
func (b *Baresip) Stop() {
	stopGroup(b.cmd, b.done, 3*time.Second)
}

// DecodedLevels waits until baresip's call has ended (its audio stream
// destroyed) and returns the Goertzel level (audio.ToneLevel) of each
// frequency in the last 2 s of what it decoded: its newest sndfile dump.
func (b *Baresip) DecodedLevels(ctx context.Context, freqs ...float64) ([]float64, error) {
	if err := b.WaitLog(ctx, regexp.MustCompile(`audio: destroyed`)); err != nil {
		return nil, err
	}
	dec := ""
	for _, f := range b.Dumps() {
		if strings.HasSuffix(f, "-dec.wav") && f > dec {
			dec = f
		}
	}
	if dec == "" {
		return nil, fmt.Errorf("interop: no decode dump among %v", b.Dumps())
	}
	rx, rate, err := wav.Read(dec)
	if err != nil {
		return nil, err
	}
	if n := 2 * rate; len(rx) > n {
		rx = rx[len(rx)-n:]
	}
	out := make([]float64, len(freqs))
	for i, f := range freqs {
		out[i] = audio.ToneLevel(rx, f, rate)
	}
	return out, nil
}

// StartBaresipT starts baresip for a test (StartBaresip), with o's
// folder, SIP port and ten RTP ports filled in where o leaves them zero,
// the ports held for the test (testtool); it stops when the test ends, its
// log shown if the test failed.
func StartBaresipT(ctx context.Context, t testing.TB, o BaresipOptions) *Baresip {
	t.Helper()
	if o.SIPPort == 0 {
		o.SIPPort = testtool.Port(t)
	}
	if o.RTPMin == 0 {
		o.RTPMin, o.RTPMax = testtool.EvenPorts(t, 10), 0
	}
	if o.RTPMax == 0 {
		o.RTPMax = o.RTPMin + 9
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	b, err := StartBaresip(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("baresip log:\n%s", b.Log())
		}
	})
	return b
}
