package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/audio/g711"
	"github.com/deskphone/deskphone/firmware/phone"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/lab"
)

// rtpTap is a relay in front of the phone's media ports: the phone
// advertises 127.0.0.2 (nat.public_address) while it listens on
// 127.0.0.1, so what the far end sends it comes here first; the tap keeps
// the RTP datagrams (the even ports) as they were on the wire and passes
// every datagram on to the same port on 127.0.0.1.
type rtpTap struct {
	mu   sync.Mutex
	pkts [][]byte
}

const tapKeep = 500 // datagrams kept, at most (10 s of 20 ms packets)

func tapRTP(t *testing.T, ports []int) *rtpTap {
	t.Helper()
	tap := &rtpTap{}
	for _, p := range ports {
		in, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: p})
		if err != nil {
			t.Fatal(err)
		}
		out, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close(); out.Close() })
		to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}
		rtp := p%2 == 0
		go func() {
			buf := make([]byte, 2048)
			for {
				n, err := in.Read(buf)
				if err != nil {
					return
				}
				if rtp {
					tap.mu.Lock()
					if len(tap.pkts) < tapKeep {
						tap.pkts = append(tap.pkts, append([]byte(nil), buf[:n]...))
					}
					tap.mu.Unlock()
				}
				out.WriteToUDP(buf[:n], to)
			}
		}()
	}
	return tap
}

// take returns the datagrams kept so far and forgets them.
func (tap *rtpTap) take() [][]byte {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	p := tap.pkts
	tap.pkts = nil
	return p
}

// wireLevel is the level of freq in the payloads of pkts read as G.711
// in the clear (µ-law and A-law; the larger), past the 12-byte RTP header
// and without the SRTP tag: what an eavesdropper would hear.
func wireLevel(pkts [][]byte, freq float64) (level float64, n int) {
	var mu, al []int16
	for _, p := range pkts {
		if len(p) < 12+160 {
			continue
		}
		pl := p[12 : 12+160]
		s := make([]int16, 160)
		g711.DecodeUlaw(s, pl)
		mu = append(mu, s...)
		g711.DecodeAlaw(s, pl)
		al = append(al, s...)
		n++
	}
	if n == 0 {
		return 0, 0
	}
	return max(audio.ToneLevel(mu, freq, 8000), audio.ToneLevel(al, freq, 8000)), n
}

const sprayHz = 2000.0

// spray sends plain RTP with a 2 kHz tone at 50 packets/s to ports on
// 127.0.0.1 (the phone's media ports) from another port of the far end's
// IP address, alternately with a new SSRC and with the far end's (the
// SSRC of the last packet the tap saw), until ctx ends (at most 10 s); it
// returns the packets sent.
func spray(ctx context.Context, t *testing.T, tap *rtpTap, ports []int) int {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Error(err)
		return 0
	}
	defer c.Close()
	pcm, pkt := make([]int16, 160), make([]byte, 12+160)
	var ph float64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	n := 0
	for i := range 500 {
		select {
		case <-ctx.Done():
			return n
		case <-tick.C:
		}
		ssrc := uint32(0x5eed0000)
		if i%2 == 1 {
			tap.mu.Lock()
			if k := len(tap.pkts); k > 0 {
				p := tap.pkts[k-1]
				ssrc = uint32(p[8])<<24 | uint32(p[9])<<16 | uint32(p[10])<<8 | uint32(p[11])
			}
			tap.mu.Unlock()
		}
		audio.Sine(pcm, sprayHz, 0.7, 8000, &ph)
		pkt[0], pkt[1] = 0x80, 0 // PCMU
		pkt[2], pkt[3] = byte(i>>8), byte(i)
		ts := uint32(i) * 160
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		pkt[8], pkt[9], pkt[10], pkt[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
		g711.EncodeUlaw(pkt[12:], pcm)
		for _, p := range ports {
			if _, err := c.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}); err == nil {
				n++
			}
		}
	}
	return n
}

// TestBaresipSRTP: a sim-board phone with media.srtp = required, on a line
// over TLS (no registrar: baresip is its outbound proxy), and baresip with
// its srtp module and mediaenc=srtp-mand (SDES, RTP/SAVP), both with
// certificates of a CA the test makes (the phone trusts it through
// SSL_CERT_FILE, its system roots). baresip calls the phone, and the
// phone calls baresip: each call is encrypted (the phone's display shows
// the lock and its status srtp=on), audio goes both ways (baresip's sine
// in the phone's earpiece, the phone's 1 kHz in what baresip decoded),
// and the RTP baresip sends the phone, tapped on the wire, carries SRTP:
// the sine is not in its payloads read as G.711, while the phone's
// decrypted audio has it. Meanwhile plain RTP sprayed at the phone from
// another port of baresip's address, with a new SSRC and with baresip's,
// never reaches the earpiece (none of it authenticates).
//
// A second phone with media.srtp = optional calls baresip with its best
// effort (mediaenc=srtp: encrypted) and without SRTP (in the clear, and
// the phone shows it).
//
// No hold or resume here: the phone offers a fresh key in every re-INVITE
// (RFC 4568 7.1.4; sipua's TestSRTPCallOverTLS), and baresip's srtp
// module (1.0.0, and its later versions' start_srtp) makes its receive
// context once per call and keeps the first key, so after a re-INVITE it
// can no longer decrypt the phone (README, Status).
func TestBaresipSRTP(t *testing.T) {
	bin := need(t, "baresip")
	mods := BaresipModules()
	if mods == "" {
		testtool.Missing(t, "baresip's modules are not installed")
	}
	if _, err := os.Stat(filepath.Join(mods, "srtp.so")); err != nil {
		testtool.Missing(t, "baresip's srtp module is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	dir := t.TempDir()
	authority := testtool.NewCA(t, "deskphone test CA")
	leaf := authority.Issue(t, "127.0.0.1", testtool.LeafOptions{Hosts: []string{"127.0.0.1"}})
	ca := authority.File
	// baresip's sip_certificate: the certificate, then its key, in one file.
	both := filepath.Join(dir, "both.pem")
	if err := os.WriteFile(both, append(append([]byte(nil), leaf.CertPEM...), leaf.KeyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	oneLine := func(pem []byte) string { return strings.ReplaceAll(strings.TrimSpace(string(pem)), "\n", `\n`) }

	phoneSIP, phoneRTP := testtool.Ports(t, 2), testtool.EvenPorts(t, 4) // SIP, and TLS on the port above
	bSIP, bRTP := testtool.Ports(t, 2), testtool.EvenPorts(t, 10)
	tap := tapRTP(t, []int{phoneRTP, phoneRTP + 1, phoneRTP + 2, phoneRTP + 3})
	// Each phone's one line has no registrar and baresip over TLS as its
	// outbound proxy.
	phoneCfg := func(mode string, sip, rtp int, extra string) string {
		return fmt.Sprintf("line.1.registrar =\nline.1.outbound_proxy = 127.0.0.1:%d\nline.1.domain = 127.0.0.1\n"+
			"line.1.transport = tls\nmedia.srtp = %s\nsip.port = %d\nrtp.port_min = %d\nrtp.port_max = %d\nsip.tls_ca = %s\n%s",
			bSIP+1, mode, sip, rtp, rtp+3, oneLine(authority.PEM), extra)
	}
	// 1001: required, a TLS listener for baresip's calls, its media
	// through the tap. 1002: optional (best effort), no tap.
	cfg := phoneCfg("required", phoneSIP, phoneRTP,
		fmt.Sprintf("sip.tls_cert = %s\nsip.tls_key = %s\nnat.public_address = 127.0.0.2\n", oneLine(leaf.CertPEM), oneLine(leaf.KeyPEM)))
	cfg2 := phoneCfg("optional", testtool.Ports(t, 2), testtool.EvenPorts(t, 4), "")
	l, err := lab.Start(ctx, lab.Options{Board: lab.Sim, Exts: []string{"1001", "1002"}, Dir: dir, Logf: t.Logf,
		PhoneConfig: map[string]string{"1001": cfg, "1002": cfg2}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ph := l.Phones[0]
	// The phone's TLS listener is up once it takes a connection.
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", phoneSIP+1))
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the phone's TLS listener: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}

	// tlsBaresip starts baresip as 1003 over TLS with the account's
	// parameters params (";mediaenc=srtp-mand": SDES SRTP mandatory).
	tlsBaresip := func(t *testing.T, sine int, params string, commands ...string) *Baresip {
		b := StartBaresipT(ctx, t, BaresipOptions{Binary: bin, Dir: t.TempDir(), SIPPort: bSIP, RTPMin: bRTP, RTPMax: bRTP + 9,
			Account: "<sip:1003@127.0.0.1;transport=tls>;regint=0" + params,
			SineHz:  sine, Lifetime: 40 * time.Second, Commands: commands,
			Modules: []string{"srtp.so"}, TLSCert: both, CAFile: ca})
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		if err := b.WaitLog(wctx, regexp.MustCompile(`baresip is ready`)); err != nil {
			t.Fatal(err)
		}
		return b
	}

	// call checks a connected call: the lock, the status, the audio both
	// ways and the wire; then hangs up from the phone.
	call := func(t *testing.T, b *Baresip, mark int, sine float64) {
		wait := func(re string) string { t.Helper(); return ph.Await(t, ctx, mark, re) }
		wait(`^phone connected$`)
		t.Log(wait(`^display 1 ` + regexp.QuoteMeta(phone.Lock) + `Talking to`))
		if st, err := ph.Panel.Status(ctx); err != nil || !strings.Contains(st, "srtp=on") {
			t.Fatalf("status %q, %v: want srtp=on", st, err)
		}
		tap.take()
		sprayed := 0
		s := talk(ctx, t, ph, 3*time.Second, func(ctx context.Context) {
			sprayed = spray(ctx, t, tap, []int{phoneRTP, phoneRTP + 2})
		})
		wire := tap.take()
		heard, other, intruder := audio.ToneLevel(s, sine, 8000), audio.ToneLevel(s, lab.ToneAtoB, 8000), audio.ToneLevel(s, sprayHz, 8000)
		onWire, n := wireLevel(wire, sine)
		t.Logf("earpiece (decrypted): %.0f Hz level %.3f, the spray's %.0f Hz %.4f (%d packets sprayed); on the wire, %d RTP payloads read as G.711: %.4f",
			sine, heard, sprayHz, intruder, sprayed, n, onWire)
		if intruder >= lab.MinLevel {
			t.Fatalf("the spray reached the earpiece: %.0f Hz at %.3f", sprayHz, intruder)
		}
		mark = ph.Panel.Mark()
		if err := ph.Panel.Send("hook on"); err != nil {
			t.Fatal(err)
		}
		wait(`^phone idle$`)
		if heard < lab.MinLevel || heard < 10*other {
			t.Fatalf("the phone did not hear baresip's %.0f Hz (level %.3f, %.0f Hz %.3f)", sine, heard, lab.ToneAtoB, other)
		}
		if n < 50 {
			t.Fatalf("the tap saw %d RTP packets from baresip", n)
		}
		for _, p := range wire {
			if len(p) != 12+160+10 && len(p) != 12+160+4 {
				t.Fatalf("a %d-byte RTP packet on the wire: not SRTP of a 160-byte frame", len(p))
			}
		}
		if onWire > heard/10 || onWire >= lab.MinLevel {
			t.Fatalf("baresip's %.0f Hz is recoverable from the wire: level %.4f (decrypted %.3f)", sine, onWire, heard)
		}
		// The other way: what baresip decrypted and decoded has the
		// phone's 1 kHz.
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		rx, rate, err := b.Decoded(wctx, 2)
		wcancel()
		if err != nil {
			t.Fatal(err)
		}
		got := audio.ToneLevel(rx, lab.ToneAtoB, rate)
		t.Logf("baresip decoded the phone's 1 kHz at level %.3f", got)
		if got < lab.MinLevel {
			t.Fatalf("baresip did not receive the phone's 1 kHz (level %.3f)", got)
		}
	}

	t.Run("baresip calls", func(t *testing.T) {
		const sine = 500.0
		mark := ph.Panel.Mark()
		b := tlsBaresip(t, int(sine), ";mediaenc=srtp-mand", fmt.Sprintf("dsip:1001@127.0.0.1:%d;transport=tls", phoneSIP+1))
		ictx, icancel := context.WithTimeout(ctx, 20*time.Second)
		line, err := ph.Panel.WaitAfter(ictx, mark, regexp.MustCompile(`^call \d+ incoming`))
		icancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Log(line)
		mark = ph.Panel.Mark()
		if err := ph.Panel.Send("hook off"); err != nil {
			t.Fatal(err)
		}
		call(t, b, mark, sine)
	})
	t.Run("the phone calls", func(t *testing.T) {
		const sine = 700.0
		b := tlsBaresip(t, int(sine), ";mediaenc=srtp-mand;answermode=auto")
		call(t, b, dialOut(ctx, t, ph, "1003"), sine)
	})

	// media.srtp = optional: best-effort SRTP (RTP/AVP with a=crypto).
	// baresip with mediaenc=srtp (its best effort) takes the key: the
	// call is encrypted; baresip without SRTP answers in the clear: the
	// call goes on, plainly, and the phone says so (no lock, no srtp=on).
	ph2 := l.Phones[1]
	for _, tc := range []struct {
		name, params string
		encrypted    bool
	}{{"best effort taken", ";mediaenc=srtp;answermode=auto", true}, {"best effort in the clear", ";answermode=auto", false}} {
		t.Run(tc.name, func(t *testing.T) {
			const sine = 600.0
			tlsBaresip(t, int(sine), tc.params)
			mark := dialOut(ctx, t, ph2, "1003")
			row, err := ph2.Panel.WaitAfter(ctx, mark, regexp.MustCompile(`^display 1 .*Talking to`))
			if err != nil {
				t.Fatal(err)
			}
			st, err := ph2.Panel.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s; status %s", row, st)
			if locked := strings.Contains(row, phone.Lock); locked != tc.encrypted || strings.Contains(st, "srtp=on") != tc.encrypted {
				t.Fatalf("encrypted %v, but the display says %q and the status %q", tc.encrypted, row, st)
			}
			s, err := ph2.Panel.Record(2 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			mark = ph2.Panel.Mark()
			if err := ph2.Panel.Send("hook on"); err != nil {
				t.Fatal(err)
			}
			if _, err := ph2.Panel.WaitAfter(ctx, mark, regexp.MustCompile(`^phone idle$`)); err != nil {
				t.Fatal(err)
			}
			if len(s) > 8000 {
				s = s[len(s)-8000:]
			}
			if heard := audio.ToneLevel(s, sine, 8000); heard < lab.MinLevel {
				t.Fatalf("the phone did not hear baresip's %.0f Hz (level %.3f)", sine, heard)
			}
		})
	}
}
