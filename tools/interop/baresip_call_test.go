package interop

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/tools/lab"
)

// TestBaresipCalls: baresip (1003, through the development PBX, which
// challenges its INVITE) calls a sim-board phone; the phone rings, is
// answered from its panel, hears baresip's 500 Hz sine, and hangs up.
func TestBaresipCalls(t *testing.T) {
	const sine = 500.0
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// baresip dials at once, so the phone registers first (before); the
	// panel's mark is taken then. regint=0: baresip does not register; -e
	// types keys: "d" opens the dial prompt, the rest is the URI.
	var (
		ph   *lab.Phone
		mark int
	)
	before := func(l *lab.Lab) {
		if _, err := l.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
		ph = l.Phones[0]
		mark = ph.Panel.Mark()
	}
	l, b := baresipLab(ctx, t, ";regint=0", int(sine), before, func(pbx string) string { return "dsip:1001@" + pbx })
	wait := func(re string) string { t.Helper(); return ph.Await(t, ctx, mark, re) }
	inctx, incancel := context.WithTimeout(ctx, 15*time.Second)
	line, err := ph.Panel.WaitAfter(inctx, mark, regexp.MustCompile(`^call \d+ incoming`))
	incancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(line)
	wait(`^ring on`)
	mark = ph.Panel.Mark()
	if err := ph.Panel.Send("hook off"); err != nil {
		t.Fatal(err)
	}
	wait(`^phone connected$`)
	s, err := ph.Panel.Record(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > 16000 {
		s = s[len(s)-16000:]
	}
	heard, other := audio.ToneLevel(s, sine, 8000), audio.ToneLevel(s, 700, 8000)
	t.Logf("earpiece: %.0f Hz level %.3f, 700 Hz level %.3f", sine, heard, other)
	mark = ph.Panel.Mark()
	if err := ph.Panel.Send("hook on"); err != nil {
		t.Fatal(err)
	}
	wait(`^phone idle$`)
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	err = b.WaitLog(wctx, regexp.MustCompile(`terminated`))
	wcancel()
	if err != nil {
		t.Error(err)
	}
	if heard < lab.MinLevel || heard < 10*other {
		t.Fatalf("the phone did not hear baresip's %.0f Hz sine (level %.3f)", sine, heard)
	}
	// The PBX challenged baresip's INVITE and passed the second one on.
	var challenged, forwarded bool
	for _, e := range l.PBX.Ladder() {
		if e.Method == "INVITE" && e.From == "1003" {
			challenged = challenged || e.Dir == "out" && e.Status == 407
			forwarded = forwarded || e.Dir == "out" && e.Request && e.Peer.Port == ph.SIPPort
		}
	}
	if !challenged || !forwarded {
		t.Fatalf("at the PBX: INVITE from baresip challenged %v, passed to the phone %v", challenged, forwarded)
	}
}
