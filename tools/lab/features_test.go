package lab

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/pbx"
)

// The call features of issue 6, end to end on the sim board: each test
// starts the development PBX and phones, drives them through their panels
// as a person would, and checks what their panels show (and, where it says
// more, the PBX's ladder and the audio).

// flow is one feature test's lab (Flow, with the helpers of these tests).
type flow = Flow

func startFlow(t *testing.T, exts []string, cfg map[string]string) *flow {
	return startFlowOn(t, "", exts, cfg)
}

// startFlowOn is startFlow with the PBX on pbxAddr ("": a free port).
func startFlowOn(t *testing.T, pbxAddr string, exts []string, cfg map[string]string) *flow {
	t.Helper()
	testtool.Long(t, "make e2e")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	l, err := Start(ctx, Options{Board: Sim, Exts: exts, Dir: t.TempDir(), Logf: t.Logf, PhoneConfig: cfg, PBXListen: pbxAddr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close()
		if t.Failed() {
			l.LogConsoles(t.Logf)
		}
	})
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	if _, err := l.WaitRegistered(rctx); err != nil {
		t.Fatal(err)
	}
	return NewFlow(t, ctx, l)
}

// diverted finds the 302 a phone sent with the Diversion reason.
func diverted(ladder []pbx.Entry, reason string) bool {
	for _, e := range ladder {
		if e.Dir == "in" && e.Status == 302 && bytes.Contains(e.Raw, []byte("reason="+reason)) {
			return true
		}
	}
	return false
}

// TestForwardAlwaysSim: 1002 dials 1003 and presses fwd; a call from 1001
// to 1002 is forwarded (302 with Diversion: unconditional) and rings 1003.
func TestForwardAlwaysSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, nil)
	for _, k := range []string{"1", "0", "0", "3", "fwd"} {
		f.Do("1002", "key "+k)
	}
	f.Expect("1002", `^display 1 Fwd to 1003$`)
	f.Do("1001", "hook off")
	f.Expect("1001", `^tone dial$`)
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^call \d+ forwarded `)
	f.Expect("1003", `^ring on`)
	f.Absent("1002", `^ring on`)
	f.Do("1003", "hook off")
	f.Expect("1003", `^phone connected$`)
	f.Expect("1001", `^phone connected$`)
	if !diverted(f.Lab.PBX.Ladder(), "unconditional") {
		t.Fatal("no 302 with Diversion reason=unconditional at the PBX")
	}
	f.HangupAll()
	f.Do("1002", "key fwd")
	f.Expect("1002", `^log forwarding off$`)
}

// TestDNDAndBusySim: with call.forward_busy = 1003, 1002 in do not disturb
// (the dnd key, its lamp) and 1002 off hook both send 1001's call to 1003;
// with DND off and 1002 idle, 1002 rings.
func TestDNDAndBusySim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, map[string]string{"1002": "call.forward_busy = 1003\n"})
	f.Do("1002", "key dnd")
	f.Expect("1002", `^led dnd on$`)
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^call \d+ forwarded `)
	f.Expect("1003", `^ring on`)
	f.Do("1001", "hook on")
	f.Expect("1003", `^ring off`)
	f.Do("1002", "key dnd")
	f.Expect("1002", `^led dnd off$`)

	f.Do("1002", "hook off") // busy: off hook at dial tone
	f.Expect("1002", `^tone dial$`)
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^call \d+ forwarded `)
	f.Expect("1003", `^ring on`)
	f.Do("1001", "hook on")
	f.Expect("1003", `^ring off`)
	f.Do("1002", "hook on")
	f.Expect("1002", `^phone idle$`)
	if !diverted(f.Lab.PBX.Ladder(), "do-not-disturb") || !diverted(f.Lab.PBX.Ladder(), "user-busy") {
		t.Fatal("no 302 with Diversion do-not-disturb and user-busy at the PBX")
	}

	f.Do("1001", "dial 1002") // idle, no DND: it rings
	f.Expect("1002", `^ring on`)
	f.Do("1001", "hook on")
	f.Expect("1002", `^phone idle$`)
}

// TestNoAnswerVoicemailSim: 1002 forwards unanswered calls to its voicemail
// after 2 s; 1001 leaves a message; 1002's lamp lights from the PBX's
// message-summary NOTIFY, and its vm key calls the box.
func TestNoAnswerVoicemailSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002"}, map[string]string{"1002": "call.forward_noanswer = vm\nvoicemail.number = 8000\ncall.noanswer_seconds = 2\n"})
	f.Do("1001", "hook off")
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^ring on`)
	f.ExpectWithin("1002", `^call \d+ forwarded `, 5*time.Second)
	f.Expect("1002", `^ring off$`)
	f.Expect("1001", `^phone connected$`)
	if !diverted(f.Lab.PBX.Ladder(), "no-answer") {
		t.Fatal("no 302 with Diversion reason=no-answer at the PBX")
	}
	ctx, stop := context.WithCancel(f.Ctx)
	go f.Phone("1001").Panel.PlayTone(ctx, ToneAtoB, toneAmp)
	time.Sleep(1500 * time.Millisecond) // the message
	stop()
	f.Do("1001", "hook on")
	f.Expect("1001", `^phone idle$`)
	f.ExpectWithin("1002", `^mwi 1 1/0$`, 15*time.Second)
	f.Expect("1002", `^led mwi on$`)
	f.Expect("1002", `^display 1 1 new voicemail$`)

	f.Do("1002", "key vm")
	f.Expect("1002", `^call \d+ calling 8000$`)
	f.Expect("1002", `^phone connected$`)
	f.Do("1002", "key cancel")
	f.Expect("1002", `^phone idle$`)
}

// TestDialPlanSim: a digit map sends a complete number without send, *2
// dials speed dial 2, # sends, the interdigit timeout sends, and the call
// history (up, ok) calls back.
func TestDialPlanSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, map[string]string{
		"1001": "dialplan.digitmap = 1xxx|8000\nspeeddial.2 = 1003\n",
		"1003": "dialplan.interdigit_seconds = 1\n",
	})
	f.Do("1001", "hook off")
	for _, k := range "1002" {
		f.Do("1001", "key "+string(k))
	}
	f.Expect("1002", `^ring on`)
	f.Expect("1001", `^call \d+ calling 1002$`)
	f.Do("1001", "hook on")
	f.Expect("1002", `^phone idle$`)

	f.Do("1001", "hook off")
	f.Do("1001", "key *")
	f.Do("1001", "key 2")
	f.Expect("1003", `^ring on`)
	f.Do("1001", "hook on")
	f.Expect("1003", `^phone idle$`)

	f.Do("1003", "hook off")
	for _, k := range "1002#" {
		f.Do("1003", "key "+string(k))
	}
	f.Expect("1002", `^ring on`)
	f.Do("1003", "hook on")
	f.Expect("1002", `^phone idle$`)

	f.Do("1003", "hook off")
	for _, k := range "1001" {
		f.Do("1003", "key "+string(k))
	}
	f.Absent("1001", `^ring on`)
	f.ExpectWithin("1001", `^ring on`, 5*time.Second) // a second after the last digit
	f.Do("1003", "hook on")
	f.Expect("1001", `^phone idle$`)

	f.Do("1001", "key up")
	f.Expect("1001", `^display 1 1/3 in Ext 1003 missed$`)
	f.Do("1001", "key ok") // shown by display name, called back by number
	f.Expect("1003", `^ring on`)
	f.Do("1001", "hook on")
	f.Expect("1003", `^phone idle$`)
	f.Do("1001", "key up")
	f.Expect("1001", `^display 1 1/4 out 1003 cancelled$`)
	f.Do("1001", "key ok")
	f.Expect("1003", `^ring on`)
	f.Do("1001", "hook on")
	f.Expect("1003", `^phone idle$`)

	f.Do("1001", "key redial") // the last number, on the speaker
	f.Expect("1001", `^call \d+ calling 1003$`)
	f.Expect("1003", `^ring on`)
	f.Do("1001", "key speaker")
	f.Expect("1003", `^phone idle$`)
}

// TestMuteDTMFSim: in a call, the mute key silences 1001's microphone at
// 1002 (and lights the mute lamp); digits pressed during the call reach the
// far end as RFC 4733 events and show on its display.
func TestMuteDTMFSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002"}, nil)
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^ring on`)
	f.Do("1002", "hook off")
	f.Expect("1001", `^phone connected$`)
	ctx, stop := context.WithCancel(f.Ctx)
	defer stop()
	go f.Phone("1001").Panel.PlayTone(ctx, ToneAtoB, toneAmp)
	hear := func() float64 {
		s, err := f.Phone("1002").Panel.Record(1500 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		return levels(s[len(s)/3:], 8000)[ToneAtoB]
	}
	if l := hear(); l < MinLevel {
		t.Fatalf("1002 does not hear 1001 before mute (level %.4f)", l)
	}
	f.Do("1001", "key mute")
	f.Expect("1001", `^led mute on$`)
	if l := hear(); l > MinLevel/10 {
		t.Fatalf("1002 hears 1001 while muted (level %.4f)", l)
	}
	f.Do("1001", "key mute")
	f.Expect("1001", `^led mute off$`)
	if l := hear(); l < MinLevel {
		t.Fatalf("1002 does not hear 1001 after unmute (level %.4f)", l)
	}
	f.Do("1001", "key 5")
	f.Expect("1001", `^display 1 Talking to .*sent 5$`)
	f.Expect("1002", `^log dtmf received 5$`)
	f.Expect("1002", `^display 1 Talking to .*got 5$`)
	f.Do("1001", "hook on")
	f.Expect("1002", `^call \d+ ended:`)
	f.Do("1002", "hook on")
	f.Expect("1002", `^phone idle$`)
}

// TestTwoLinesSim: a phone with two lines lights a lamp for each as it
// registers; line2 makes the next call go out on line 2.
func TestTwoLinesSim(t *testing.T) {
	port := testtool.Port(t) // the PBX binds it; line 2 is configured with it first
	f := startFlowOn(t, fmt.Sprintf("127.0.0.1:%d", port), []string{"1001", "1002"}, map[string]string{
		"1001": fmt.Sprintf("line.2.user = 1005\nline.2.password = pw1005\nline.2.registrar = 127.0.0.1:%d\n", port),
	})
	p := f.Phone("1001")
	for i := 0; ; i++ {
		st, err := p.Panel.Status(f.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(st, "reg=1:registered,2:registered") {
			break
		}
		if i == 50 {
			t.Fatalf("line 2 did not register: %s", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.Do("1001", "key line2")
	f.Expect("1001", `^log calls go out on line 2$`)
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^call \d+ incoming .*1005`)
	f.Do("1001", "hook on")
	f.Expect("1002", `^phone idle$`)
	f.Do("1001", "key line1")
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^call \d+ incoming .*1001`)
	f.Do("1001", "hook on")
	f.Expect("1002", `^phone idle$`)
}
