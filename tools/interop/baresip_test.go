package interop

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/wav"
)

// TestBaresipAnswers: baresip registers with the development PBX as 1003,
// a sim-board phone (1001) calls it, baresip answers by itself and plays a
// 700 Hz sine, which the phone's earpiece hears.
func TestBaresipAnswers(t *testing.T) {
	const sine = 700.0
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, b := baresipLab(ctx, t, ";answermode=auto;regint=300", int(sine), nil, nil)
	if _, err := l.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	err := b.WaitLog(wctx, regexp.MustCompile(`(?i)1003@127\.0\.0\.1.*200 OK`))
	wcancel()
	if err != nil {
		t.Fatal(err)
	}
	ph := l.Phones[0]
	mark := ph.Panel.Mark()
	wait := func(re string) {
		t.Helper()
		if _, err := ph.Panel.WaitAfter(ctx, mark, regexp.MustCompile(re)); err != nil {
			t.Fatalf("waiting for %q: %v", re, err)
		}
	}
	if err := ph.Panel.Send("hook off"); err != nil {
		t.Fatal(err)
	}
	wait(`^tone dial$`)
	if err := ph.Panel.Send("dial 1003"); err != nil {
		t.Fatal(err)
	}
	wait(`^phone connected$`)
	playCtx, stop := context.WithCancel(ctx)
	go ph.Panel.PlayTone(playCtx, lab.ToneAtoB, 9830)
	s, err := ph.Panel.Record(3 * time.Second)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > 16000 {
		s = s[len(s)-16000:]
	}
	heard, other := audio.ToneLevel(s, sine, 8000), audio.ToneLevel(s, 1000, 8000)
	t.Logf("earpiece: %.0f Hz level %.3f, 1000 Hz level %.3f", sine, heard, other)
	mark = ph.Panel.Mark()
	if err := ph.Panel.Send("hook on"); err != nil {
		t.Fatal(err)
	}
	wait(`^phone idle$`)
	if heard < lab.MinLevel || heard < 10*other {
		t.Fatalf("the phone did not hear baresip's %.0f Hz sine (level %.3f, 1000 Hz %.3f)", sine, heard, other)
	}
	// The call as the PBX saw it: baresip's 200 OK to the INVITE and to
	// the phone's BYE (which may still be on its way).
	var ok200, bye200 bool
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end) && !(ok200 && bye200); time.Sleep(50 * time.Millisecond) {
		for _, e := range l.PBX.Ladder() {
			if e.Dir == "in" && e.Status == 200 && e.To == "1003" {
				ok200 = ok200 || e.Method == "INVITE"
				bye200 = bye200 || e.Method == "BYE"
			}
		}
	}
	if !ok200 || !bye200 {
		t.Fatalf("at the PBX: 200 to INVITE from baresip %v, 200 to BYE %v", ok200, bye200)
	}
	// The other way: what baresip decoded (its sndfile dump) holds the
	// phone's 1000 Hz.
	wctx, wcancel = context.WithTimeout(ctx, 5*time.Second)
	err = b.WaitLog(wctx, regexp.MustCompile(`audio: destroyed`))
	wcancel()
	if err != nil {
		t.Fatal(err)
	}
	dec := ""
	for _, f := range b.Dumps() {
		if strings.HasSuffix(f, "-dec.wav") {
			dec = f
		}
	}
	if dec == "" {
		t.Fatalf("no decode dump among %v", b.Dumps())
	}
	rx, rate, err := wav.Read(dec)
	if err != nil {
		t.Fatal(err)
	}
	if n := 2 * rate; len(rx) > n {
		rx = rx[len(rx)-n:]
	}
	got, wrong := audio.ToneLevel(rx, lab.ToneAtoB, rate), audio.ToneLevel(rx, sine, rate)
	t.Logf("baresip decoded %d samples at %d Hz: 1000 Hz level %.3f, %.0f Hz level %.3f", len(rx), rate, got, sine, wrong)
	if got < lab.MinLevel || got < 10*wrong {
		t.Fatalf("baresip did not receive the phone's 1000 Hz (level %.3f)", got)
	}
}

// baresipLab starts the development PBX with a sim-board phone, 1001, and
// baresip as 1003 (params: the account's parameters after auth_pass, such
// as ";regint=0"), playing a sineHz sine and typing the command dial makes
// of the PBX's address (nil: none). before, when set, runs between the two
// starts. Both stop with the test, baresip's log shown on failure.
func baresipLab(ctx context.Context, t *testing.T, params string, sineHz int, before func(*lab.Lab), dial func(pbx string) string) (*lab.Lab, *Baresip) {
	t.Helper()
	bin := need(t, "baresip")
	if BaresipModules() == "" {
		testtool.Missing(t, "baresip's modules are not installed")
	}
	dir := t.TempDir()
	l, err := lab.Start(ctx, lab.Options{Board: lab.Sim, Exts: []string{"1001"}, Dir: dir, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if before != nil {
		before(l)
	}
	var commands []string
	if dial != nil {
		commands = []string{dial(l.PBX.Addr().String())}
	}
	b := StartBaresipT(ctx, t, BaresipOptions{Binary: bin,
		Account:  fmt.Sprintf("<sip:1003@%s>;auth_pass=pw1003%s", l.PBX.Addr(), params),
		SineHz:   sineHz,
		Lifetime: 50 * time.Second,
		Commands: commands})
	return l, b
}
