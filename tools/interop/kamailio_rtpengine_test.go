package interop

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/pbx"
)

// TestKamailioRtpengineQEMU: the production setup for phones behind a
// NAT, Kamailio with rtpengine (userspace forwarding, started by the
// test), with a phone in QEMU behind QEMU's NAT and baresip on the host.
// Kamailio's nathelper sees the NAT (the phone's Contact and SDP name
// private addresses: nat_uac_test 19 and 8), saves the phone's binding at
// its source address (fix_nated_register), aliases its Contact, and hands
// each SDP to rtpengine, the phone's with SIP-source-address and through
// rtpengine's interface that advertises 10.0.2.2. The phone calls baresip
// (1003, answering with a 700 Hz sine), then baresip (1004) calls the
// phone (500 Hz); the phone plays 1000 Hz. Each side hears the other,
// baresip's media peer is one of rtpengine's ports, and rtpengine reports
// both sessions' packets.
func TestKamailioRtpengineQEMU(t *testing.T) {
	testtool.Need(t, "qemu-system-aarch64")
	rtpengineCalls(t, lab.QEMU, "")
}

// TestKamailioRtpengine is the same with a sim-board phone that looks
// NATed: it advertises nat.public_address = 10.0.2.2 (what a QEMU phone
// advertises: a private address the host cannot send to) while it signals
// from 127.0.0.1, so only its media is behind the "NAT" (without
// rtpengine it hears nothing: baresip sends to 10.0.2.2).
func TestKamailioRtpengine(t *testing.T) {
	rtpengineCalls(t, lab.Sim, "nat.public_address = 10.0.2.2\n")
}

// rtpengineCalls runs the calls of TestKamailioRtpengineQEMU with a phone
// on board configured with phoneConfig.
func rtpengineCalls(t *testing.T, board lab.Board, phoneConfig string) {
	bin := need(t, "baresip")
	if BaresipModules() == "" {
		testtool.Missing(t, "baresip's modules are not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rt := testtool.StartRtpengine(t)
	k := startKamailioOpts(t, ctx, KamailioOptions{Rtpengine: "udp:" + rt.NG.String()})
	dir := t.TempDir()
	l, err := lab.Start(ctx, lab.Options{Board: board, Exts: []string{"1001"}, Dir: dir,
		Users: pbx.DefaultUsers(), External: k.Addr.String(), Logf: t.Logf,
		PhoneConfig: map[string]string{"1001": phoneConfig}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		l.Close()
		if t.Failed() {
			if b, err := os.ReadFile(dir + "/console-1001.log"); err == nil {
				t.Logf("console of 1001:\n%s", b)
			}
			t.Logf("rtpengine:\n%s", rt.Output())
		}
	}()
	b1 := StartBaresipT(ctx, t, BaresipOptions{Binary: bin, SineHz: 700, Lifetime: 80 * time.Second,
		Account: fmt.Sprintf("<sip:1003@%s>;auth_pass=pw1003;answermode=auto;regint=300", k.Addr)})
	regCtx, cancelReg := context.WithTimeout(ctx, 60*time.Second)
	_, err = l.WaitRegistered(regCtx)
	cancelReg()
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	err = b1.WaitRegistered(wctx, "1003")
	wcancel()
	if err != nil {
		t.Fatal(err)
	}
	ph := l.Phones[0]
	mark := ph.Panel.Mark()
	wait := func(re string) { t.Helper(); ph.Await(t, ctx, mark, re) }
	send := func(line string) {
		t.Helper()
		mark = ph.Panel.Mark()
		if err := ph.Panel.Send(line); err != nil {
			t.Fatal(err)
		}
	}
	// converse checks both directions of a connected call: the phone hears
	// sine, baresip b (once the call ended) the phone's 1000 Hz.
	converse := func(b *Baresip, sine float64, what string) {
		t.Helper()
		s, err := ph.Talk(ctx, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		heard, other := audio.ToneLevel(s, sine, 8000), audio.ToneLevel(s, lab.ToneAtoB, 8000)
		send("hook on")
		wait(`^phone idle$`)
		dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
		lv, err := b.DecodedLevels(dctx, lab.ToneAtoB, sine)
		dcancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: the phone heard %.0f Hz at %.3f (%.0f Hz %.3f); baresip heard %.0f Hz at %.3f (%.0f Hz %.3f)",
			what, sine, heard, lab.ToneAtoB, other, lab.ToneAtoB, lv[0], sine, lv[1])
		if heard < lab.MinLevel || heard < 10*other {
			t.Errorf("%s: the phone did not hear baresip's %.0f Hz", what, sine)
		}
		if lv[0] < lab.MinLevel || lv[0] < 10*lv[1] {
			t.Errorf("%s: baresip did not hear the phone's %.0f Hz", what, lab.ToneAtoB)
		}
		// baresip was given rtpengine's address and ports (RTCP at the
		// SDP's RTP port + 1) and receives from there.
		for _, re := range []string{`starting RTCP with remote 127\.0\.0\.1:(\d+)`, `receiving from 127\.0\.0\.1:(\d+)`} {
			m := regexp.MustCompile(re).FindStringSubmatch(b.Log())
			if m == nil {
				t.Errorf("%s: baresip's log has no %q", what, re)
				continue
			}
			if port, _ := strconv.Atoi(m[1]); !rt.Serves(port) {
				t.Errorf("%s: baresip's media peer 127.0.0.1:%d is not rtpengine's (%d-%d)", what, port, rt.PortMin, rt.PortMax)
			}
		}
	}

	send("hook off")
	wait(`^tone dial$`)
	send("dial 1003")
	wait(`^phone connected$`)
	converse(b1, 700, "1001 calls baresip")

	b2 := StartBaresipT(ctx, t, BaresipOptions{Binary: bin, SineHz: 500, Lifetime: 80 * time.Second,
		Account:  fmt.Sprintf("<sip:1004@%s>;auth_pass=pw1004;regint=0", k.Addr),
		Commands: []string{"dsip:1001@" + k.Addr.String()}})
	wait(`^ring on`)
	send("hook off")
	wait(`^phone connected$`)
	converse(b2, 500, "baresip calls 1001")

	// Kamailio handed every offer and answer to rtpengine, the phone's with
	// SIP-source-address (its SDP names a private address).
	media := k.Media()
	t.Logf("kamailio -> rtpengine:\n%s", strings.Join(media, "\n"))
	var natOffer, natAnswer, plain int
	for _, m := range media {
		f := strings.Fields(m)
		switch {
		case f[0] == "INVITE" && strings.Contains(m, "SIP-source-address"):
			natOffer++
		case f[0] == "200" && strings.Contains(m, "SIP-source-address"):
			natAnswer++
		case !strings.Contains(m, "SIP-source-address"):
			plain++
		}
	}
	if guest := strings.Count(strings.Join(media, "\n"), "direction=guest"); board == lab.QEMU && guest != 2 {
		t.Errorf("%d offers through rtpengine's guest interface, want the QEMU phone's two calls", guest)
	}
	if natOffer < 1 || natAnswer < 1 || plain < 2 {
		t.Errorf("SDPs given to rtpengine: %d NATed offers, %d NATed answers, %d others; want the phone's offer and answer NATed, baresip's two not", natOffer, natAnswer, plain)
	}
	// rtpengine relayed both calls: it logs each session's packet counts
	// when it ends.
	out := rt.Output()
	if n := strings.Count(out, "Final packet stats"); n < 2 {
		t.Errorf("rtpengine ended %d sessions with packet stats, want 2:\n%s", n, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Final packet stats") || strings.Contains(line, "Port ") {
			t.Log(line)
		}
	}
}
