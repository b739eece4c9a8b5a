package lab

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/pbx"
)

// TestVoicemailSim is issue 6's voicemail end to end on the sim board:
// 1001 leaves 1002 a message through 8000*1002 (a 1 kHz tone for 2 s); 1002
// is busy for a second call, which the PBX sends to 1002's mailbox; the
// mailbox holds both as WAV files and 1002's message lamp lights; then 1002
// calls 8000, hears the messages, and the lamp goes out.
func TestVoicemailSim(t *testing.T) { runVoicemail(t, Sim, 20*time.Second) }

// TestVoicemailQEMU is the same with both phones in QEMU guests behind
// QEMU's NAT: the mailbox's RTP reaches them through the forwarded ports.
func TestVoicemailQEMU(t *testing.T) {
	needQEMU(t)
	runVoicemail(t, QEMU, 90*time.Second)
}

func runVoicemail(t *testing.T, board Board, boot time.Duration) {
	testtool.Long(t, "make e2e")
	ctx, cancel := context.WithTimeout(context.Background(), boot+70*time.Second)
	defer cancel()
	l, err := Start(ctx, Options{Board: board, Exts: []string{"1001", "1002"}, Dir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			l.LogConsoles(t.Logf)
			t.Logf("PBX ladder:\n%s", pbx.FormatLadder(l.PBX.Ladder(), nil))
		}
		l.Close()
	}()
	regCtx, cancelReg := context.WithTimeout(ctx, boot)
	_, err = l.WaitRegistered(regCtx)
	cancelReg()
	if err != nil {
		t.Fatal(err)
	}
	a, b := l.Phones[0], l.Phones[1]
	wait := func(ph *Phone, mark int, re string) string { t.Helper(); return ph.Await(t, ctx, mark, re) }
	send := func(ph *Phone, line string) int {
		t.Helper()
		mark := ph.Panel.Mark()
		t.Logf("%s panel <- %s", ph.Ext, line)
		if err := ph.Panel.Send(line); err != nil {
			t.Fatal(err)
		}
		return mark
	}
	// leave dials number from 1001, plays freq into its microphone for d
	// once the mailbox answers, and hangs up.
	leave := func(number string, freq float64, d time.Duration) {
		t.Helper()
		m := send(a, "hook off")
		wait(a, m, `^tone dial$`)
		m = send(a, "dial "+number)
		wait(a, m, `^phone connected$`)
		playCtx, stop := context.WithTimeout(ctx, d)
		a.Panel.PlayTone(playCtx, freq, toneAmp)
		stop()
		m = send(a, "hook on")
		wait(a, m, `^phone idle$`)
	}
	bMark := b.Panel.Mark()

	// 1. A message for 1002 through 8000*1002.
	leave("8000*1002", 1000, 2*time.Second)
	wait(b, bMark, `^mwi 1 1/0$`)
	wait(b, bMark, `^led mwi on$`)
	t.Log("1002: mwi 1 1/0, lamp on")
	newMsgs, _ := l.PBX.Messages("1002")
	if len(newMsgs) != 1 {
		t.Fatalf("1002's box holds %q", newMsgs)
	}
	s, err := pbx.ReadWAV(newMsgs[0])
	if err != nil {
		t.Fatal(err)
	}
	lv := peak(s, 1000)
	t.Logf("message 1: %s, %.2f s, 1 kHz level %.3f (600 Hz %.4f)", newMsgs[0], float64(len(s))/8000, lv, peak(s, 600))
	if lv < MinLevel || float64(len(s))/8000 < 1.5 {
		t.Errorf("message 1: %.2f s, 1 kHz level %.3f; want about 2 s of the tone", float64(len(s))/8000, lv)
	}

	// 2. 1002 is busy (off hook, dial tone): the PBX sends the call to
	// 1002's mailbox.
	bMark = send(b, "hook off")
	wait(b, bMark, `^tone dial$`)
	leave("1002", 600, time.Second)
	wait(b, bMark, `^mwi 1 2/0$`)
	m := send(b, "hook on")
	wait(b, m, `^phone idle$`)
	newMsgs, _ = l.PBX.Messages("1002")
	if len(newMsgs) != 2 {
		t.Fatalf("1002's box holds %q", newMsgs)
	}
	if s2, err := pbx.ReadWAV(newMsgs[1]); err != nil || peak(s2, 600) < MinLevel {
		t.Errorf("message 2 (busy fallback): %v, 600 Hz level %.3f", err, peak(s2, 600))
	}
	if !strings.Contains(pbx.FormatLadder(l.PBX.Ladder(), nil), "486 Busy Here") {
		t.Error("no 486 from 1002 in the ladder")
	}

	// 3. 1002 calls the box (8000, what its vm key dials when
	// voicemail.number is set): the box plays both messages, hangs up, and
	// the lamp goes out.
	m = send(b, "dial "+pbx.DefaultVoicemailNumber)
	wait(b, m, `^phone connected$`)
	heard, err := b.Panel.Record(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wait(b, m, `^call \d+ ended:`)
	wait(b, m, `^mwi 1 0/2$`)
	wait(b, m, `^led mwi off$`)
	t.Logf("1002 heard its messages: 1 kHz level %.3f, 600 Hz level %.3f; mwi 1 0/2, lamp off", peak(heard, 1000), peak(heard, 600))
	if peak(heard, 1000) < MinLevel || peak(heard, 600) < MinLevel {
		t.Errorf("1002 did not hear both messages")
	}
	if n, o := l.PBX.Messages("1002"); len(n) != 0 || len(o) != 2 {
		t.Errorf("after listening: new %q old %q", n, o)
	}
	var notifies []string
	for _, e := range l.PBX.Ladder() {
		if e.Dir == "out" && e.Method == "NOTIFY" && e.Request {
			notifies = append(notifies, e.Summary)
		}
	}
	t.Logf("%d NOTIFYs sent: %q\nladder:\n%s", len(notifies), notifies, pbx.FormatLadder(l.PBX.Ladder(), nil))
}

// peak is the highest audio.ToneLevel of freq over 200 ms windows.
func peak(s []int16, freq float64) float64 {
	best := 0.0
	for i := 0; i+1600 <= len(s); i += 400 {
		best = max(best, audio.ToneLevel(s[i:i+1600], freq, 8000))
	}
	return best
}
