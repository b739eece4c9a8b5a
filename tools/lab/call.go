package lab

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/tools/pbx"
)

// RegisteredRE matches the panel line of line 1 registering.
var RegisteredRE = regexp.MustCompile(`^reg 1 registered$`)

// Tones put into each side's microphone during the call.
const (
	ToneAtoB = 1000.0 // Hz, A's microphone, heard in B's earpiece
	ToneBtoA = 600.0  // Hz, B's microphone, heard in A's earpiece
	// MinLevel is the least Goertzel level (1.0 = a full-scale sine) that
	// counts as the tone having crossed; the players send amplitude 0.3, a
	// level of 0.09.
	MinLevel = 0.01
	toneAmp  = 9830 // 0.3 of full scale
)

// Step is one of the eight steps of the basic call (DESIGN.md) as the PBX
// saw it: the message from one side and the same message passed on.
type Step struct {
	Name    string
	From    string // side the message came from: "A" or "B"
	Method  string // CSeq method
	Code    int    // 0 for the request
	In, Out int    // indexes into the call's ladder; -1 if not seen
}

// CallReport is what the basic call produced.
type CallReport struct {
	A, B   string      // extensions
	Ladder []pbx.Entry // the call's messages at the PBX, in order
	Steps  []Step
	// Levels of both test tones in each earpiece.
	AHears, BHears map[float64]float64
	// BootToRegistered is, per extension, the time from starting the
	// phone's process (QEMU) to its panel saying line 1 registered.
	BootToRegistered map[string]time.Duration
}

// OK says whether every step was seen and audio crossed both ways.
func (r *CallReport) OK() error {
	var bad []string
	for _, s := range r.Steps {
		if s.In < 0 || s.Out < 0 {
			bad = append(bad, "step "+s.Name+" not seen at the PBX")
		}
	}
	if r.BHears[ToneAtoB] < MinLevel || r.BHears[ToneAtoB] < 10*r.BHears[ToneBtoA] {
		bad = append(bad, fmt.Sprintf("B did not hear A's %.0f Hz (levels %v)", ToneAtoB, r.BHears))
	}
	if r.AHears[ToneBtoA] < MinLevel || r.AHears[ToneBtoA] < 10*r.AHears[ToneAtoB] {
		bad = append(bad, fmt.Sprintf("A did not hear B's %.0f Hz (levels %v)", ToneBtoA, r.AHears))
	}
	if len(bad) > 0 {
		return fmt.Errorf("lab: %s", strings.Join(bad, "; "))
	}
	return nil
}

// BasicCall runs the call of DESIGN.md between two registered phones of the
// lab: A lifts the handset and dials B; B rings and answers; each side puts a
// tone into its microphone and records its earpiece; A hangs up. progress
// is told each step as it happens (nil: silent). The ladder is the
// development PBX's.
func (l *Lab) BasicCall(ctx context.Context, a, b *Phone, progress func(string)) (*CallReport, error) {
	return l.BasicCallVia(ctx, a, b, l.PBX.Ladder, progress)
}

// BasicCallVia is BasicCall for a lab whose phones use an external
// registrar and proxy: the same panel steps and audio checks, with the
// ladder taken from ladder, which returns every message the proxy has seen
// so far, in order, in the PBX's form (for Kamailio: parsed from its log).
// A nil ladder leaves Steps empty, so that OK checks only the audio; the
// panel steps are checked either way (BasicCallVia fails when one is
// missing).
func (l *Lab) BasicCallVia(ctx context.Context, a, b *Phone, ladder func() []pbx.Entry, progress func(string)) (*CallReport, error) {
	if progress == nil {
		progress = func(string) {}
	}
	haveLadder := ladder != nil
	if !haveLadder {
		ladder = func() []pbx.Entry { return nil }
	}
	marks := map[*Phone]int{a: a.Panel.Mark(), b: b.Panel.Mark()}
	wait := func(ph *Phone, re string) error {
		if _, err := ph.Panel.WaitAfter(ctx, marks[ph], regexp.MustCompile(re)); err != nil {
			return fmt.Errorf("lab: %s waiting for %q: %w", ph.Ext, re, err)
		}
		return nil
	}
	send := func(ph *Phone, line string) error {
		progress(fmt.Sprintf("%s panel <- %s", ph.Ext, line))
		marks[a], marks[b] = a.Panel.Mark(), b.Panel.Mark()
		return ph.Panel.Send(line)
	}
	start := len(ladder())

	if err := send(a, "hook off"); err != nil {
		return nil, err
	}
	if err := wait(a, `^tone dial$`); err != nil {
		return nil, err
	}
	progress(a.Ext + " hears dial tone")
	if err := send(a, "dial "+b.Ext); err != nil {
		return nil, err
	}
	if err := wait(b, `^ring on`); err != nil {
		return nil, err
	}
	progress(b.Ext + " rings")
	if err := wait(a, `^tone ringback$`); err != nil {
		return nil, err
	}
	progress(a.Ext + " hears ringback")
	playCtx, stopPlaying := context.WithCancel(ctx)
	defer stopPlaying()
	go a.Panel.PlayTone(playCtx, ToneAtoB, toneAmp)
	go b.Panel.PlayTone(playCtx, ToneBtoA, toneAmp)
	if err := send(b, "hook off"); err != nil {
		return nil, err
	}
	if err := wait(b, `^phone connected$`); err != nil {
		return nil, err
	}
	if err := wait(a, `^phone connected$`); err != nil {
		return nil, err
	}
	progress("connected; recording both earpieces for 3 s")
	type rec struct {
		samples []int16
		err     error
	}
	recA, recB := make(chan rec, 1), make(chan rec, 1)
	go func() { s, err := a.Panel.Record(3 * time.Second); recA <- rec{s, err} }()
	go func() { s, err := b.Panel.Record(3 * time.Second); recB <- rec{s, err} }()
	ra, rb := <-recA, <-recB
	if ra.err != nil || rb.err != nil {
		return nil, fmt.Errorf("lab: recording earpieces: %v %v", ra.err, rb.err)
	}
	stopPlaying()
	if err := send(a, "hook on"); err != nil {
		return nil, err
	}
	if err := wait(b, `^call \d+ ended:`); err != nil {
		return nil, err
	}
	if err := wait(a, `^phone idle$`); err != nil {
		return nil, err
	}
	progress(a.Ext + " hung up; " + b.Ext + " saw the call end")
	if err := send(b, "hook on"); err != nil {
		return nil, err
	}
	if err := wait(b, `^phone idle$`); err != nil {
		return nil, err
	}

	r := &CallReport{A: a.Ext, B: b.Ext, AHears: levels(ra.samples, a.Panel.Rate()), BHears: levels(rb.samples, b.Panel.Rate())}
	deadline := time.Now().Add(3 * time.Second)
	for {
		all := ladder()
		if start > len(all) {
			start = 0
		}
		r.Ladder = callLadder(all[start:], a.Ext, b.Ext)
		if haveLadder {
			r.Steps = checkSteps(r.Ladder)
		}
		if !haveLadder || allSeen(r.Steps) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return r, nil
}

// levels measures both test tones over the last two seconds of a recording
// at rate samples/s (the panel's: 8000, or 16000 after SetRate; the first
// part may hold audio from before the answer).
func levels(s []int16, rate int) map[float64]float64 {
	if n := 2 * rate; len(s) > n {
		s = s[len(s)-n:]
	}
	return map[float64]float64{
		ToneAtoB: audio.ToneLevel(s, ToneAtoB, rate),
		ToneBtoA: audio.ToneLevel(s, ToneBtoA, rate),
	}
}

// callLadder keeps the messages of the call A placed to B (by Call-ID of
// the first INVITE from A to B).
func callLadder(all []pbx.Entry, a, b string) []pbx.Entry {
	callID := ""
	for _, e := range all {
		if e.Dir == "in" && e.Method == "INVITE" && strings.HasPrefix(e.Summary, "INVITE ") && e.From == a && e.To == b {
			callID = e.CallID
			break
		}
	}
	var out []pbx.Entry
	for _, e := range all {
		if callID != "" && e.CallID == callID {
			out = append(out, e)
		}
	}
	return out
}

// checkSteps finds, in order, each of the eight steps as a message received
// by the PBX from one side and passed on to the other. Steps 1 and 5 are
// requests from A, 7 from A (A hangs up); 2 to 4 and 8 are B's responses.
func checkSteps(ladder []pbx.Entry) []Step {
	steps := []Step{
		{Name: "1 INVITE", From: "A", Method: "INVITE"},
		{Name: "2 100 Trying", From: "B", Method: "INVITE", Code: 100},
		{Name: "3 180 Ringing", From: "B", Method: "INVITE", Code: 180},
		{Name: "4 200 OK (INVITE)", From: "B", Method: "INVITE", Code: 200},
		{Name: "5 ACK", From: "A", Method: "ACK"},
		{Name: "7 BYE", From: "A", Method: "BYE"},
		{Name: "8 200 OK (BYE)", From: "B", Method: "BYE", Code: 200},
	}
	// A is where the INVITE came from, B where it went.
	var addrA, addrB string
	for _, e := range ladder {
		if isReq(e, "INVITE") {
			if e.Dir == "in" && addrA == "" {
				addrA = addrString(e.Peer)
			}
			if e.Dir == "out" && addrB == "" {
				addrB = addrString(e.Peer)
			}
		}
	}
	side := map[string]string{"A": addrA, "B": addrB}
	other := map[string]string{"A": addrB, "B": addrA}
	pos := 0
	for i := range steps {
		s := &steps[i]
		s.In, s.Out = -1, -1
		for j := pos; j < len(ladder); j++ {
			e := ladder[j]
			if !matches(e, s) {
				continue
			}
			if s.In < 0 && e.Dir == "in" && addrString(e.Peer) == side[s.From] {
				s.In = j
				if s.Code == 100 {
					// 100 Trying is hop by hop (RFC 3261 16.7): the proxy
					// sends its own to A rather than passing B's on, and
					// B's may be logged after its 180, so the search for
					// the next steps does not move past it.
					for k := range ladder {
						if ladder[k].Dir == "out" && matches(ladder[k], s) && addrString(ladder[k].Peer) == other[s.From] {
							s.Out = k
							break
						}
					}
					if s.Out >= 0 {
						break
					}
				}
				continue
			}
			if s.In >= 0 && e.Dir == "out" && addrString(e.Peer) == other[s.From] {
				s.Out = j
				pos = j + 1
				break
			}
		}
	}
	return steps
}

func matches(e pbx.Entry, s *Step) bool {
	if s.Code == 0 {
		return isReq(e, s.Method)
	}
	return e.Method == s.Method && strings.HasPrefix(e.Summary, fmt.Sprintf("%d ", s.Code))
}

func isReq(e pbx.Entry, method string) bool {
	return e.Method == method && strings.HasPrefix(e.Summary, method+" ")
}

func allSeen(steps []Step) bool {
	for _, s := range steps {
		if s.In < 0 || s.Out < 0 {
			return false
		}
	}
	return true
}

func addrString(a *net.UDPAddr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// FormatLadder prints a call's ladder: one line per message with its time
// from the first, its direction between A, the PBX and B, and its start line.
func (r *CallReport) FormatLadder() string {
	var b strings.Builder
	if len(r.Ladder) == 0 {
		return "(no messages)\n"
	}
	names := map[string]string{}
	for _, s := range r.Steps {
		if s.In >= 0 {
			e := r.Ladder[s.In]
			if s.From == "A" {
				names[addrString(e.Peer)] = r.A
			} else {
				names[addrString(e.Peer)] = r.B
			}
		}
	}
	t0 := r.Ladder[0].Time
	fmt.Fprintf(&b, "%9s  %-6s      %-6s      %-6s  %s\n", "ms", r.A, "PBX", r.B, "message")
	for _, e := range r.Ladder {
		who := names[addrString(e.Peer)]
		var arrow string
		switch {
		case e.Dir == "in" && who == r.A:
			arrow = fmt.Sprintf("%-6s ---> %-6s      %-6s", r.A, "PBX", "")
		case e.Dir == "out" && who == r.A:
			arrow = fmt.Sprintf("%-6s <--- %-6s      %-6s", r.A, "PBX", "")
		case e.Dir == "in" && who == r.B:
			arrow = fmt.Sprintf("%-6s      %-6s <--- %-6s", "", "PBX", r.B)
		case e.Dir == "out" && who == r.B:
			arrow = fmt.Sprintf("%-6s      %-6s ---> %-6s", "", "PBX", r.B)
		default:
			arrow = fmt.Sprintf("%-6s  %s %-6s  %-6s", "?", e.Dir, "PBX", addrString(e.Peer))
		}
		fmt.Fprintf(&b, "%9.1f  %s  %s\n", float64(e.Time.Sub(t0).Microseconds())/1000, arrow, e.Summary)
	}
	return b.String()
}

// Summary prints the steps and the audio result.
func (r *CallReport) Summary() string {
	var b strings.Builder
	for _, s := range r.Steps {
		mark := "ok"
		if s.In < 0 || s.Out < 0 {
			mark = "MISSING"
		}
		if strings.HasPrefix(s.Name, "7 ") { // the conversation comes before the BYE
			fmt.Fprintf(&b, "  step %-20s %s\n", "6 RTP both ways", audioMark(r))
		}
		fmt.Fprintf(&b, "  step %-20s %s\n", s.Name, mark)
	}
	fmt.Fprintf(&b, "  %s heard: %.0f Hz level %.3f, %.0f Hz level %.3f\n", r.A, ToneBtoA, r.AHears[ToneBtoA], ToneAtoB, r.AHears[ToneAtoB])
	fmt.Fprintf(&b, "  %s heard: %.0f Hz level %.3f, %.0f Hz level %.3f\n", r.B, ToneAtoB, r.BHears[ToneAtoB], ToneBtoA, r.BHears[ToneBtoA])
	for ext, d := range r.BootToRegistered {
		fmt.Fprintf(&b, "  %s: start to registered %.2f s\n", ext, d.Seconds())
	}
	return b.String()
}

func audioMark(r *CallReport) string {
	if r.BHears[ToneAtoB] >= MinLevel && r.AHears[ToneBtoA] >= MinLevel {
		return "ok"
	}
	return "MISSING"
}
