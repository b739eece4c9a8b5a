package lab

import (
	"context"
	"testing"
	"time"
)

// connect makes a call from a to b and waits until both are connected.
func (f *flow) connect(a, b string) {
	f.t.Helper()
	f.do(a, "dial "+b)
	f.expect(b, `^ring on`)
	f.do(b, "hook off")
	f.expect(b, `^phone connected$`)
	f.expect(a, `^phone connected$`)
}

// hears records ext's earpiece and returns the level of freq in it.
func (f *flow) hears(ext string, freq float64) float64 {
	f.t.Helper()
	s, err := f.ph(ext).Panel.Record(1500 * time.Millisecond)
	if err != nil {
		f.t.Fatal(err)
	}
	return levels(s[len(s)/3:])[freq]
}

// TestHoldAndWaitingSim: 1001 holds 1002 and resumes (the audio comes
// back); 1003 calls 1001 during the call: the waiting tone, ok answers it
// and holds 1002, hold swaps back.
func TestHoldAndWaitingSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, nil)
	f.connect("1001", "1002")
	ctx, stop := context.WithCancel(f.ctx)
	defer stop()
	go f.ph("1001").Panel.PlayTone(ctx, ToneAtoB, toneAmp)

	f.do("1001", "key hold")
	f.expect("1001", `^call \d+ held `)
	f.expect("1001", `^led hold on$`)
	f.expect("1001", `^phone held$`)
	f.expect("1002", `^call \d+ remote-held `)
	if l := f.hears("1002", ToneAtoB); l > MinLevel/10 {
		t.Fatalf("1002 hears 1001 while held (level %.4f)", l)
	}
	f.do("1001", "key hold")
	f.expect("1001", `^phone connected$`)
	f.expect("1001", `^led hold off$`)
	f.expect("1002", `^call \d+ connected `)
	if l := f.hears("1002", ToneAtoB); l < MinLevel {
		t.Fatalf("1002 does not hear 1001 after resume (level %.4f)", l)
	}

	f.do("1003", "dial 1001")
	f.expect("1001", `^tone waiting$`)
	f.expect("1001", `^call \d+ incoming .*1003`)
	f.absent("1001", `^ring on`)
	f.do("1001", "key ok")
	f.expect("1001", `^call \d+ held .*1002`)
	f.expect("1001", `^call \d+ connected .*1003`)
	f.expect("1003", `^phone connected$`)
	f.expect("1002", `^call \d+ remote-held `)
	if l := f.hears("1003", ToneAtoB); l < MinLevel {
		t.Fatalf("1003 does not hear 1001 (level %.4f)", l)
	}
	f.do("1001", "key hold") // swap
	f.expect("1001", `^call \d+ held .*1003`)
	f.expect("1001", `^call \d+ connected .*1002`)
	f.expect("1002", `^call \d+ connected `)
	f.expect("1003", `^call \d+ remote-held `)
	st, err := f.ph("1001").Panel.Status(f.ctx)
	if err != nil || st == "" {
		t.Fatal(err)
	}
	t.Logf("1001 status: %s", st)
	f.do("1003", "hook on")
	f.expect("1001", `^call \d+ ended:.* .*1003`)
	f.expect("1001", `^led hold off$`)
	f.hangupAll()
}

// TestBlindTransferSim: 1001 calls 1002; 1002 transfers 1001 to 1003
// (transfer, 1003, send): 1001's phone follows the REFER and 1003 rings.
func TestBlindTransferSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, nil)
	f.connect("1001", "1002")
	f.do("1002", "key transfer")
	f.expect("1002", `^display 1 Transfer to: $`)
	for _, k := range "1003" {
		f.do("1002", "key "+string(k))
	}
	f.do("1002", "key send")
	f.expect("1002", `^log call \d+ transferred to 1003$`)
	f.expect("1002", `^call \d+ ended:`)
	f.expect("1001", `^log transferred by .* to sip:1003@`)
	f.expect("1003", `^ring on`)
	f.do("1003", "hook off")
	f.expect("1003", `^phone connected$`)
	f.expect("1001", `^phone connected$`)
	f.hangupAll()
}

// TestConferenceSim: 1001 talks to 1002, holds, calls 1003, and presses
// conf: all three hear each other (1001's tone at both, 1002's at 1003);
// 1001 hanging up ends both calls.
func TestConferenceSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, nil)
	f.connect("1001", "1002")
	f.do("1001", "key hold")
	f.expect("1001", `^phone held$`)
	f.do("1001", "dial 1003")
	f.expect("1003", `^ring on`)
	f.do("1003", "hook off")
	f.expect("1001", `^call \d+ connected .*1003`)
	f.do("1001", "key conf")
	f.expect("1001", `^display 1 Conference: .*1003 \+ .*1002$`)
	f.expect("1002", `^call \d+ connected `)
	ctx, stop := context.WithCancel(f.ctx)
	defer stop()
	go f.ph("1001").Panel.PlayTone(ctx, ToneAtoB, toneAmp)
	go f.ph("1002").Panel.PlayTone(ctx, ToneBtoA, toneAmp)
	type got struct {
		ext string
		l   map[float64]float64
	}
	res := make(chan got, 3)
	for _, ext := range []string{"1001", "1002", "1003"} {
		go func() {
			s, err := f.ph(ext).Panel.Record(2 * time.Second)
			if err != nil {
				res <- got{ext, nil}
				return
			}
			res <- got{ext, levels(s[len(s)/3:])}
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
	f.do("1001", "hook on")
	f.expect("1002", `^call \d+ ended:`)
	f.expect("1003", `^call \d+ ended:`)
	f.expect("1001", `^phone idle$`)
	f.hangupAll()
}

// TestConsultTransferSim: 1001 calls 1002; 1002 holds it, calls 1003,
// talks, and presses transfer: 1001 is referred to 1003 with Replaces
// (attended transfer, RFC 5589 section 7, RFC 3891), so 1003's phone takes
// 1001's call in place of the consultation without ringing again, and
// 1001 and 1003 talk (audio both ways).
func TestConsultTransferSim(t *testing.T) {
	f := startFlow(t, []string{"1001", "1002", "1003"}, nil)
	f.connect("1001", "1002")
	f.do("1002", "key hold")
	f.expect("1002", `^phone held$`)
	f.expect("1001", `^call \d+ remote-held `)
	f.do("1002", "dial 1003")
	f.expect("1003", `^ring on`)
	f.do("1003", "key ok") // on the speaker
	f.expect("1002", `^call \d+ connected 1003$`)
	f.do("1002", "key transfer")
	f.expect("1002", `^log call \d+ transferred to 1003$`)
	f.expect("1001", `^log transferred by .* to sip:1003@.*\(replaces\)$`)
	f.expect("1003", `^log call \d+ from .*1001.* replaces call \d+$`)
	f.expect("1003", `^call \d+ ended:`)
	f.expect("1003", `^call \d+ connected .*1001`)
	f.expect("1001", `^phone connected$`)
	f.expect("1002", `^phone (idle|dialtone)$`)
	f.absent("1003", `^ring on`)
	ctx, stop := context.WithCancel(f.ctx)
	defer stop()
	go f.ph("1001").Panel.PlayTone(ctx, ToneAtoB, toneAmp)
	go f.ph("1003").Panel.PlayTone(ctx, ToneBtoA, toneAmp)
	if l := f.hears("1003", ToneAtoB); l < MinLevel {
		t.Fatalf("1003 does not hear 1001 after the transfer (level %.4f)", l)
	}
	if l := f.hears("1001", ToneBtoA); l < MinLevel {
		t.Fatalf("1001 does not hear 1003 after the transfer (level %.4f)", l)
	}
	stop()
	f.hangupAll()
}
