package interop

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/pbx"
)

// The call features of issue 6 through Kamailio: sim-board phones register
// with Kamailio (testdata/kamailio.cfg with WITH_FEATURES, which also logs
// the 3xx's Diversion and the REFER's Refer-To), are driven through their
// panels, and the test checks their panels, Kamailio's ladder and the audio.

// kflow is one feature test's Kamailio and phones.
type kflow struct {
	*lab.Flow
	k *Kamailio
}

func startKFlow(t *testing.T, exts []string, cfg map[string]string) *kflow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	k := startKamailio(t, ctx, "WITH_FEATURES")
	dir := t.TempDir()
	l, err := lab.Start(ctx, lab.Options{Board: lab.Sim, Exts: exts, Dir: dir, Users: pbx.DefaultUsers(),
		External: k.Addr.String(), PhoneConfig: cfg, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	f := &kflow{Flow: lab.NewFlow(t, ctx, l), k: k}
	t.Cleanup(func() {
		l.Close()
		if t.Failed() {
			t.Logf("ladder at kamailio:\n%s", f.ladderText())
			l.LogConsoles(t.Logf)
		}
	})
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	if _, err := l.WaitRegistered(rctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// talk checks that a and b, connected, hear each other: a plays
// lab.ToneAtoB and b lab.ToneBtoA, and each earpiece must carry the other's
// tone well above its own.
func (f *kflow) talk(a, b string) {
	f.T.Helper()
	ctx, stop := context.WithCancel(f.Ctx)
	defer stop()
	go f.Phone(a).Panel.PlayTone(ctx, lab.ToneAtoB, 9830)
	go f.Phone(b).Panel.PlayTone(ctx, lab.ToneBtoA, 9830)
	type heard struct {
		s   []int16
		err error
	}
	rec := func(ext string, ch chan<- heard) {
		s, err := f.Phone(ext).Panel.Record(2 * time.Second)
		ch <- heard{s, err}
	}
	ach, bch := make(chan heard, 1), make(chan heard, 1)
	go rec(a, ach)
	go rec(b, bch)
	ah, bh := <-ach, <-bch
	for _, h := range []struct {
		who        string
		got        heard
		want, echo float64
	}{{a, ah, lab.ToneBtoA, lab.ToneAtoB}, {b, bh, lab.ToneAtoB, lab.ToneBtoA}} {
		if h.got.err != nil {
			f.T.Fatalf("record %s: %v", h.who, h.got.err)
		}
		s := h.got.s[len(h.got.s)/3:]
		want, other := audio.ToneLevel(s, h.want, 8000), audio.ToneLevel(s, h.echo, 8000)
		f.T.Logf("%s hears %.0f Hz at %.3f, %.0f Hz at %.3f", h.who, h.want, want, h.echo, other)
		if want < lab.MinLevel || want < 10*other {
			f.T.Errorf("%s does not hear the other end's %.0f Hz (level %.4f, own %.0f Hz %.4f)", h.who, h.want, want, h.echo, other)
		}
	}
}

// ladderText is Kamailio's ladder, one message a line, with the phones'
// SIP ports named by extension.
func (f *kflow) ladderText() string {
	names := map[int]string{f.k.Addr.Port: "kamailio"}
	for _, p := range f.Lab.Phones {
		names[p.SIPPort] = p.Ext
	}
	var b strings.Builder
	for _, e := range f.k.Ladder() {
		if e.Method == "REGISTER" {
			continue
		}
		peer := e.Peer.String()
		if n, ok := names[e.Peer.Port]; ok {
			peer = n
		}
		arrow := "<-"
		if e.Dir == "out" {
			arrow = "->"
		}
		fmt.Fprintf(&b, "  kamailio %s %-8s %-40s call-id %s\n", arrow, peer, e.Summary, e.CallID)
	}
	return b.String()
}

// seen finds the first ladder entry from index from on that matches, and
// returns its index (-1 if none).
func seen(ladder []pbx.Entry, from int, match func(pbx.Entry) bool) int {
	for i := from; i < len(ladder); i++ {
		if match(ladder[i]) {
			return i
		}
	}
	return -1
}

// step is one message a ladder must show: what it is, and how to know it.
type step struct {
	what  string
	match func(pbx.Entry) bool
}

// inOrder fails the test unless the ladder, from index from on, shows the
// steps in order.
func (f *kflow) inOrder(ladder []pbx.Entry, from int, steps []step) {
	f.T.Helper()
	at := from
	for _, s := range steps {
		i := seen(ladder, at, s.match)
		if i < 0 {
			f.T.Fatalf("no %s after step %d of Kamailio's ladder:\n%s", s.what, at, f.ladderText())
		}
		at = i
	}
}

// logLines returns the fields (split on |) of Kamailio's log lines that
// start with tag|.
func (f *kflow) logLines(tag string) [][]string {
	var out [][]string
	for _, line := range strings.Split(f.k.Log(), "\n") {
		if strings.Contains(line, "LADDER|") {
			continue // a REFER's or 3xx's ladder line, not the tag's own
		}
		if i := strings.Index(line, tag+"|"); i >= 0 {
			out = append(out, strings.Split(strings.TrimSpace(line[i:]), "|"))
		}
	}
	return out
}

// TestKamailioForwardAlways: 1002 forwards every call to 1003
// (call.forward_always); 1001 dials 1002 through Kamailio, 1002's 302 with
// Diversion comes back through Kamailio, 1001's phone follows it with a new
// INVITE to 1003 through Kamailio, and 1003 answers: audio both ways.
func TestKamailioForwardAlways(t *testing.T) {
	f := startKFlow(t, []string{"1001", "1002", "1003"}, map[string]string{"1002": "call.forward_always = 1003\n"})
	p1, p2, p3 := f.Phone("1001").SIPPort, f.Phone("1002").SIPPort, f.Phone("1003").SIPPort
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^call \d+ forwarded `)
	f.Expect("1003", `^ring on`)
	f.Absent("1002", `^ring on`)
	f.Do("1003", "hook off")
	f.Expect("1003", `^phone connected$`)
	f.Expect("1001", `^phone connected$`)
	f.talk("1001", "1003")

	// At Kamailio: 1001's INVITE to 1002 relayed to 1002, its 302 in from
	// 1002 and out to 1001, then 1001's INVITE to sip:1003@ on the same
	// Call-ID relayed to 1003, and 1003's 200 back to 1001.
	ladder := f.k.Ladder()
	inv := seen(ladder, 0, func(e pbx.Entry) bool {
		return e.Dir == "out" && e.Request && e.Method == "INVITE" && e.Peer.Port == p2
	})
	if inv < 0 {
		t.Fatalf("no INVITE relayed to 1002:\n%s", f.ladderText())
	}
	cid := ladder[inv].CallID
	steps := []step{
		{"302 in from 1002", func(e pbx.Entry) bool {
			return e.Dir == "in" && e.Status == 302 && e.Method == "INVITE" && e.Peer.Port == p2 && e.CallID == cid
		}},
		{"302 out to 1001", func(e pbx.Entry) bool {
			return e.Dir == "out" && e.Status == 302 && e.Method == "INVITE" && e.Peer.Port == p1 && e.CallID == cid
		}},
		{"INVITE sip:1003@ in from 1001", func(e pbx.Entry) bool {
			return e.Dir == "in" && e.Request && e.Method == "INVITE" && e.Peer.Port == p1 && e.CallID == cid &&
				strings.HasPrefix(e.Summary, "INVITE sip:1003@")
		}},
		{"INVITE out to 1003", func(e pbx.Entry) bool {
			return e.Dir == "out" && e.Request && e.Method == "INVITE" && e.Peer.Port == p3 && e.CallID == cid
		}},
		{"200 out to 1001", func(e pbx.Entry) bool {
			return e.Dir == "out" && e.Status == 200 && e.Method == "INVITE" && e.Peer.Port == p1 && e.CallID == cid
		}},
	}
	f.inOrder(ladder, inv, steps)
	// The 302 Kamailio relayed carried Diversion naming 1002, unconditional,
	// and a Contact for 1003.
	var redirects []string
	ok := false
	for _, r := range f.logLines("REDIRECT") {
		redirects = append(redirects, strings.Join(r, "|"))
		if len(r) == 5 && r[1] == "302" && r[2] == cid && strings.Contains(r[3], "sip:1002@") &&
			strings.Contains(r[3], "reason=unconditional") && strings.Contains(r[4], "sip:1003@") {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("no 302 with Diversion <sip:1002@...>;reason=unconditional and Contact sip:1003@ at Kamailio: %q", redirects)
	}
	t.Logf("kamailio relayed: %s", strings.Join(redirects, "; "))
	t.Logf("ladder at kamailio:\n%s", f.ladderText())
	f.HangupAll()
}

// TestKamailioBlindTransfer: 1001 calls 1002 through Kamailio; 1002
// presses transfer, 1003, send: its REFER goes in the dialog, loose-routed
// through Kamailio, to 1001, whose phone calls 1003 through Kamailio; 1003
// answers and 1001 and 1003 hear each other.
func TestKamailioBlindTransfer(t *testing.T) {
	f := startKFlow(t, []string{"1001", "1002", "1003"}, nil)
	p1, p2, p3 := f.Phone("1001").SIPPort, f.Phone("1002").SIPPort, f.Phone("1003").SIPPort
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^ring on`)
	f.Do("1002", "hook off")
	f.Expect("1002", `^phone connected$`)
	f.Expect("1001", `^phone connected$`)
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
	f.talk("1001", "1003")

	// At Kamailio: the REFER in from 1002 and out to 1001 in the first
	// call's dialog, then 1001's INVITE to sip:1003@ on a new Call-ID
	// relayed to 1003 and answered.
	ladder := f.k.Ladder()
	inv := seen(ladder, 0, func(e pbx.Entry) bool {
		return e.Dir == "out" && e.Request && e.Method == "INVITE" && e.Peer.Port == p2
	})
	if inv < 0 {
		t.Fatalf("no INVITE relayed to 1002:\n%s", f.ladderText())
	}
	cid := ladder[inv].CallID
	var cid2 string
	steps := []step{
		{"REFER in from 1002", func(e pbx.Entry) bool {
			return e.Dir == "in" && e.Request && e.Method == "REFER" && e.Peer.Port == p2 && e.CallID == cid
		}},
		{"REFER out to 1001", func(e pbx.Entry) bool {
			return e.Dir == "out" && e.Request && e.Method == "REFER" && e.Peer.Port == p1 && e.CallID == cid
		}},
		{"INVITE sip:1003@ in from 1001", func(e pbx.Entry) bool {
			if e.Dir == "in" && e.Request && e.Method == "INVITE" && e.Peer.Port == p1 && e.CallID != cid &&
				strings.HasPrefix(e.Summary, "INVITE sip:1003@") {
				cid2 = e.CallID
				return true
			}
			return false
		}},
		{"INVITE out to 1003", func(e pbx.Entry) bool {
			return e.Dir == "out" && e.Request && e.Method == "INVITE" && e.Peer.Port == p3 && e.CallID == cid2
		}},
		{"200 out to 1001", func(e pbx.Entry) bool {
			return e.Dir == "out" && e.Status == 200 && e.Method == "INVITE" && e.Peer.Port == p1 && e.CallID == cid2
		}},
	}
	f.inOrder(ladder, inv, steps)
	// The REFER named 1003 as the target and 1002 as the referrer.
	var refers []string
	ok := false
	for _, r := range f.logLines("REFER") {
		refers = append(refers, strings.Join(r, "|"))
		if len(r) == 4 && r[1] == cid && strings.Contains(r[2], "sip:1003@") && strings.Contains(r[3], "1002") {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("no REFER with Refer-To sip:1003@ and Referred-By 1002 at Kamailio: %q", refers)
	}
	// 1002's REFER was accepted (202) back through Kamailio.
	if seen(ladder, 0, func(e pbx.Entry) bool {
		return e.Dir == "out" && e.Method == "REFER" && e.Status == 202 && e.Peer.Port == p2
	}) < 0 {
		t.Errorf("no 202 to the REFER relayed to 1002:\n%s", f.ladderText())
	}
	t.Logf("kamailio saw: %s", strings.Join(refers, "; "))
	t.Logf("ladder at kamailio:\n%s", f.ladderText())
	f.HangupAll()
}
