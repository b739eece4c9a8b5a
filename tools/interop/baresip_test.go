package interop

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/lab"
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
	wait := func(re string) { t.Helper(); ph.Await(t, ctx, mark, re) }
	if err := ph.Panel.Send("hook off"); err != nil {
		t.Fatal(err)
	}
	wait(`^tone dial$`)
	if err := ph.Panel.Send("dial 1003"); err != nil {
		t.Fatal(err)
	}
	wait(`^phone connected$`)
	s := talk(ctx, t, ph, 3*time.Second, nil)
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
	rx, rate, err := b.Decoded(wctx, 2)
	wcancel()
	if err != nil {
		t.Fatal(err)
	}
	got, wrong := audio.ToneLevel(rx, lab.ToneAtoB, rate), audio.ToneLevel(rx, sine, rate)
	t.Logf("baresip decoded %d samples at %d Hz: 1000 Hz level %.3f, %.0f Hz level %.3f", len(rx), rate, got, sine, wrong)
	if got < lab.MinLevel || got < 10*wrong {
		t.Fatalf("baresip did not receive the phone's 1000 Hz (level %.3f)", got)
	}
}

// talk plays lab.ToneAtoB into ph's microphone for d and returns the last
// 2 s of what its earpiece played meanwhile; during, if set, runs for as
// long in its own goroutine.
func talk(ctx context.Context, t *testing.T, ph *lab.Phone, d time.Duration, during func(context.Context)) []int16 {
	t.Helper()
	playCtx, stop := context.WithCancel(ctx)
	go ph.Panel.PlayTone(playCtx, lab.ToneAtoB, 9830)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if during != nil {
			during(playCtx)
		}
	}()
	s, err := ph.Panel.Record(d)
	stop()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > 16000 {
		s = s[len(s)-16000:]
	}
	return s
}

// dialOut lifts ph's handset, waits for the dial tone and dials number;
// it returns the panel's mark from before.
func dialOut(ctx context.Context, t *testing.T, ph *lab.Phone, number string) int {
	t.Helper()
	mark := ph.Panel.Mark()
	if err := ph.Panel.Send("hook off"); err != nil {
		t.Fatal(err)
	}
	if _, err := ph.Panel.WaitAfter(ctx, mark, regexp.MustCompile(`^tone dial$`)); err != nil {
		t.Fatal(err)
	}
	if err := ph.Panel.Send("dial " + number); err != nil {
		t.Fatal(err)
	}
	return mark
}

// baresipLab starts the development PBX with a sim-board phone, 1001, and
// baresip as 1003 (params: the account's parameters after auth_pass, such
// as ";regint=0"), playing a sineHz sine and typing the command dial makes
// of the PBX's address (nil: none), with the codec modules codecs loaded
// first (BaresipOptions.Codecs). before, when set, runs between the two
// starts. Both stop with the test, baresip's log shown on failure.
func baresipLab(ctx context.Context, t *testing.T, params string, sineHz int, before func(*lab.Lab), dial func(pbx string) string, codecs ...string) (*lab.Lab, *Baresip) {
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
		Commands: commands,
		Codecs:   codecs})
	return l, b
}

// dialBaresip has the phone call baresip (1003) once baresip has
// registered: hook off, dial tone (wait waits for a panel line), dial.
func dialBaresip(ctx context.Context, t *testing.T, ph *lab.Phone, b *Baresip, wait func(re string)) {
	t.Helper()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	err := b.WaitLog(wctx, regexp.MustCompile(`(?i)1003@127\.0\.0\.1.*200 OK`))
	wcancel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ph.Panel.Send("hook off"); err != nil {
		t.Fatal(err)
	}
	wait(`^tone dial$`)
	if err := ph.Panel.Send("dial 1003"); err != nil {
		t.Fatal(err)
	}
}

// baresipDecoded waits for baresip's call to end and returns the last 2 s
// of what it decoded (Baresip.Decoded) and their rate.
func baresipDecoded(ctx context.Context, t *testing.T, b *Baresip) ([]int16, int) {
	t.Helper()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	rx, rate, err := b.Decoded(wctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	return rx, rate
}
