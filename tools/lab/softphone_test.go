package lab

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/interop"
	"github.com/deskphone/deskphone/tools/pbx"
)

// TestSoftphoneQEMU: a phone in QEMU (behind QEMU's NAT, advertising
// 10.0.2.2) and baresip on the host, both registered with the development
// PBX, call each other with audio both ways, through the PBX's media relay
// (pbx/relay.go): the phone calls baresip (1003, answering by itself with
// a 700 Hz sine), then baresip (1004) calls the phone, playing 500 Hz; the
// phone's microphone plays 1000 Hz both times, found in what baresip
// decoded (its sndfile dump).
func TestSoftphoneQEMU(t *testing.T) {
	needQEMU(t)
	testtool.Long(t, "make e2e")
	bin := testtool.Need(t, "baresip")
	if interop.BaresipModules() == "" {
		testtool.Missing(t, "baresip's modules are not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	l, err := Start(ctx, Options{Board: QEMU, Exts: []string{"1001"}, Dir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			if b, err := os.ReadFile(l.opts.Dir + "/console-1001.log"); err == nil {
				t.Logf("console of 1001:\n%s", b)
			}
			t.Logf("PBX ladder:\n%s", pbx.FormatLadder(l.PBX.Ladder(), nil))
		}
		l.Close()
	}()
	pbxAddr := l.PBX.Addr().String()
	// baresip 1003 registers (while the phone boots) and answers by itself.
	b1 := interop.StartBaresipT(ctx, t, interop.BaresipOptions{Binary: bin, SineHz: 700, Lifetime: 120 * time.Second,
		Account: fmt.Sprintf("<sip:1003@%s>;auth_pass=pw1003;answermode=auto;regint=300", pbxAddr)})
	if err := l.PBX.WaitRegistered(ctx, "1003"); err != nil {
		t.Fatal(err)
	}
	regCtx, cancelReg := context.WithTimeout(ctx, 90*time.Second)
	took, err := l.WaitRegistered(regCtx)
	cancelReg()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1001 registered %v after QEMU started", took["1001"])
	ph := l.Phones[0]

	// The phone calls baresip.
	mark := ph.Panel.Mark()
	panelWait := func(re string) { t.Helper(); ph.Await(t, ctx, mark, re) }
	if err := ph.Panel.Send("hook off"); err != nil {
		t.Fatal(err)
	}
	panelWait(`^tone dial$`)
	mark = ph.Panel.Mark()
	if err := ph.Panel.Send("dial 1003"); err != nil {
		t.Fatal(err)
	}
	panelWait(`^phone connected$`)
	heard := talk(ctx, t, l, ph, 700)
	mark = ph.Panel.Mark()
	if err := ph.Panel.Send("hook on"); err != nil {
		t.Fatal(err)
	}
	panelWait(`^phone idle$`)
	sent := decoded(ctx, t, b1, 700)
	t.Logf("1001 -> baresip: 1001 heard 700 Hz at %.3f, baresip heard 1000 Hz at %.3f", heard, sent)

	// baresip calls the phone (not registered: it dials as soon as it runs;
	// the PBX challenges its INVITE).
	mark = ph.Panel.Mark()
	b2 := interop.StartBaresipT(ctx, t, interop.BaresipOptions{Binary: bin, SineHz: 500, Lifetime: 120 * time.Second,
		Account:  fmt.Sprintf("<sip:1004@%s>;auth_pass=pw1004;regint=0", pbxAddr),
		Commands: []string{"dsip:1001@" + pbxAddr}})
	panelWait(`^ring on`)
	mark = ph.Panel.Mark()
	if err := ph.Panel.Send("hook off"); err != nil {
		t.Fatal(err)
	}
	panelWait(`^phone connected$`)
	heard2 := talk(ctx, t, l, ph, 500)
	mark = ph.Panel.Mark()
	if err := ph.Panel.Send("hook on"); err != nil {
		t.Fatal(err)
	}
	panelWait(`^phone idle$`)
	sent2 := decoded(ctx, t, b2, 500)
	t.Logf("baresip -> 1001: 1001 heard 500 Hz at %.3f, baresip heard 1000 Hz at %.3f", heard2, sent2)
	if rs := l.PBX.Relays(); len(rs) != 0 {
		t.Errorf("relays left after both calls: %+v", rs)
	}
}

// talk records the phone's earpiece while it plays ToneAtoB (Talk),
// checks that it heard the far end's sine and that the PBX relays the
// call's media with packets from both legs; it returns the sine's level.
func talk(ctx context.Context, t *testing.T, l *Lab, ph *Phone, sine float64) float64 {
	t.Helper()
	s, err := ph.Talk(ctx, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rs := l.PBX.Relays()
	heard, other := audio.ToneLevel(s, sine, 8000), audio.ToneLevel(s, ToneAtoB, 8000)
	if heard < MinLevel || heard < 10*other {
		t.Fatalf("the phone did not hear baresip's %.0f Hz (level %.3f, %.0f Hz %.3f)", sine, heard, ToneAtoB, other)
	}
	if len(rs) != 1 || rs[0].Packets[0] == 0 || rs[0].Packets[1] == 0 {
		t.Fatalf("the PBX does not relay the call's media both ways: %+v", rs)
	}
	t.Logf("relay: %+v", rs[0])
	return heard
}

// decoded waits for baresip's call to end and returns the level of the
// phone's ToneAtoB in what it decoded.
func decoded(ctx context.Context, t *testing.T, b *interop.Baresip, sine float64) float64 {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	lv, err := b.DecodedLevels(wctx, ToneAtoB, sine)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if lv[0] < MinLevel || lv[0] < 10*lv[1] {
		t.Fatalf("baresip did not hear the phone's %.0f Hz (level %.3f, its own %.0f Hz %.3f)", ToneAtoB, lv[0], sine, lv[1])
	}
	return lv[0]
}
