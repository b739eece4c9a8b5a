package lab

import (
	"context"
	"testing"
	"time"
)

// connect makes a call from a to b and waits until both are connected.
func (f *flow) connect(a, b string) {
	f.T.Helper()
	f.Do(a, "dial "+b)
	f.Expect(b, `^ring on`)
	f.Do(b, "hook off")
	f.Expect(b, `^phone connected$`)
	f.Expect(a, `^phone connected$`)
}

// hears records ext's earpiece and returns the level of freq in it.
func (f *flow) hears(ext string, freq float64) float64 {
	f.T.Helper()
	s, err := f.Phone(ext).Panel.Record(1500 * time.Millisecond)
	if err != nil {
		f.T.Fatal(err)
	}
	return levels(s[len(s)/3:], 8000)[freq]
}

// TestHoldAndWaitingSim: 1001 holds 1002 and resumes (the audio comes
// back); 1003 calls 1001 during the call: the waiting tone, ok answers it
// and holds 1002, hold swaps back.
func TestHoldAndWaitingSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, nil)
	f.connect("1001", "1002")
	ctx, stop := context.WithCancel(f.Ctx)
	defer stop()
	go f.Phone("1001").Panel.PlayTone(ctx, ToneAtoB, toneAmp)

	f.Do("1001", "key hold")
	f.Expect("1001", `^call \d+ held `)
	f.Expect("1001", `^led hold on$`)
	f.Expect("1001", `^phone held$`)
	f.Expect("1002", `^call \d+ remote-held `)
	if l := f.hears("1002", ToneAtoB); l > MinLevel/10 {
		t.Fatalf("1002 hears 1001 while held (level %.4f)", l)
	}
	f.Do("1001", "key hold")
	f.Expect("1001", `^phone connected$`)
	f.Expect("1001", `^led hold off$`)
	f.Expect("1002", `^call \d+ connected `)
	if l := f.hears("1002", ToneAtoB); l < MinLevel {
		t.Fatalf("1002 does not hear 1001 after resume (level %.4f)", l)
	}

	f.Do("1003", "dial 1001")
	f.Expect("1001", `^tone waiting$`)
	f.Expect("1001", `^call \d+ incoming .*1003`)
	f.Absent("1001", `^ring on`)
	f.Do("1001", "key ok")
	f.Expect("1001", `^call \d+ held .*1002`)
	f.Expect("1001", `^call \d+ connected .*1003`)
	f.Expect("1003", `^phone connected$`)
	f.Expect("1002", `^call \d+ remote-held `)
	if l := f.hears("1003", ToneAtoB); l < MinLevel {
		t.Fatalf("1003 does not hear 1001 (level %.4f)", l)
	}
	f.Do("1001", "key hold") // swap
	f.Expect("1001", `^call \d+ held .*1003`)
	f.Expect("1001", `^call \d+ connected .*1002`)
	f.Expect("1002", `^call \d+ connected `)
	f.Expect("1003", `^call \d+ remote-held `)
	st, err := f.Phone("1001").Panel.Status(f.Ctx)
	if err != nil || st == "" {
		t.Fatal(err)
	}
	t.Logf("1001 status: %s", st)
	f.Do("1003", "hook on")
	f.Expect("1001", `^call \d+ ended:.* .*1003`)
	f.Expect("1001", `^led hold off$`)
	f.HangupAll()
}

// TestBlindTransferSim: 1001 calls 1002; 1002 transfers 1001 to 1003
// (transfer, 1003, send): 1001's phone follows the REFER and 1003 rings.
func TestBlindTransferSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, nil)
	f.connect("1001", "1002")
	f.Do("1002", "key transfer")
	f.Expect("1002", `^display 1 Transfer to: $`)
	for _, k := range "1003" {
		f.Do("1002", "key "+string(k))
	}
	f.Do("1002", "key send")
	f.Expect("1002", `^log call \d+ transferred to 1003$`)
	f.Expect("1002", `^call \d+ ended:`)
	f.Expect("1001", `^log transferred by .* to sip:1003@`)
	f.Expect("1003", `^ring on`)
	f.Do("1003", "hook off")
	f.Expect("1003", `^phone connected$`)
	f.Expect("1001", `^phone connected$`)
	f.HangupAll()
}

// TestConferenceSim: 1001 talks to 1002, holds, calls 1003, and presses
// conf: all three hear each other (1001's tone at both, 1002's at 1003);
// 1001 hanging up ends both calls.
func TestConferenceSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, nil)
	f.connect("1001", "1002")
	f.Do("1001", "key hold")
	f.Expect("1001", `^phone held$`)
	f.Do("1001", "dial 1003")
	f.Expect("1003", `^ring on`)
	f.Do("1003", "hook off")
	f.Expect("1001", `^call \d+ connected .*1003`)
	f.Do("1001", "key conf")
	f.Expect("1001", `^display 1 Conference: .*1003 \+ .*1002$`)
	f.Expect("1002", `^call \d+ connected `)
	ctx, stop := context.WithCancel(f.Ctx)
	defer stop()
	go f.Phone("1001").Panel.PlayTone(ctx, ToneAtoB, toneAmp)
	go f.Phone("1002").Panel.PlayTone(ctx, ToneBtoA, toneAmp)
	type got struct {
		ext string
		l   map[float64]float64
	}
	res := make(chan got, 3)
	for _, ext := range []string{"1001", "1002", "1003"} {
		go func() {
			s, err := f.Phone(ext).Panel.Record(2 * time.Second)
			if err != nil {
				res <- got{ext, nil}
				return
			}
			res <- got{ext, levels(s[len(s)/3:], 8000)}
		}()
	}
	heard := map[string]map[float64]float64{}
	for range 3 {
		g := <-res
		heard[g.ext] = g.l
	}
	t.Logf("levels: %v", heard)
	if heard["1002"][ToneAtoB] < MinLevel || heard["1003"][ToneAtoB] < MinLevel {
		t.Fatalf("1001 is not heard by both: %v", heard)
	}
	if heard["1003"][ToneBtoA] < MinLevel || heard["1001"][ToneBtoA] < MinLevel {
		t.Fatalf("1002 is not heard by 1001 and 1003: %v", heard)
	}
	stop()
	f.Do("1001", "hook on")
	f.Expect("1002", `^call \d+ ended:`)
	f.Expect("1003", `^call \d+ ended:`)
	f.Expect("1001", `^phone idle$`)
	f.HangupAll()
}

// TestConsultTransferSim: 1001 calls 1002; 1002 holds it, calls 1003,
// talks, and presses transfer: 1001 is referred to 1003 with Replaces
// (attended transfer, RFC 5589 section 7, RFC 3891), so 1003's phone takes
// 1001's call in place of the consultation without ringing again, and
// 1001 and 1003 talk (audio both ways).
func TestConsultTransferSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, nil)
	f.connect("1001", "1002")
	f.Do("1002", "key hold")
	f.Expect("1002", `^phone held$`)
	f.Expect("1001", `^call \d+ remote-held `)
	f.Do("1002", "dial 1003")
	f.Expect("1003", `^ring on`)
	f.Do("1003", "key ok") // on the speaker
	f.Expect("1002", `^call \d+ connected 1003$`)
	f.Do("1002", "key transfer")
	f.Expect("1002", `^log call \d+ transferred to 1003$`)
	f.Expect("1001", `^log transferred by .* to sip:1003@.*\(replaces\)$`)
	f.Expect("1003", `^log call \d+ from .*1001.* replaces call \d+$`)
	f.Expect("1003", `^call \d+ ended:`)
	f.Expect("1003", `^call \d+ connected .*1001`)
	f.Expect("1001", `^phone connected$`)
	f.Expect("1002", `^phone (idle|dialtone)$`)
	f.Absent("1003", `^ring on`)
	ctx, stop := context.WithCancel(f.Ctx)
	defer stop()
	go f.Phone("1001").Panel.PlayTone(ctx, ToneAtoB, toneAmp)
	go f.Phone("1003").Panel.PlayTone(ctx, ToneBtoA, toneAmp)
	if l := f.hears("1003", ToneAtoB); l < MinLevel {
		t.Fatalf("1003 does not hear 1001 after the transfer (level %.4f)", l)
	}
	if l := f.hears("1001", ToneBtoA); l < MinLevel {
		t.Fatalf("1001 does not hear 1003 after the transfer (level %.4f)", l)
	}
	stop()
	f.HangupAll()
}
