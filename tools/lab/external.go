package lab

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"time"

	"github.com/deskphone/deskphone/tools/pbx"
)

// startExternal is Start for Options.External: no development PBX, the
// phones' line 1 registers with the external registrar (which is also their
// outbound proxy). On the QEMU board the phones reach it as 10.0.2.2, the
// host's loopback seen from the guest, from behind QEMU's NAT: calls to
// them then need a registrar that keeps the REGISTER's source address
// (Kamailio's nathelper, fix_nated_register), which
// tools/interop/testdata/kamailio.cfg does not do; the sim board needs none.
func (l *Lab) startExternal(ctx context.Context) (*Lab, error) {
	host, port, err := net.SplitHostPort(l.opts.External)
	if err != nil {
		return nil, fmt.Errorf("lab: external registrar: %w", err)
	}
	if _, err := strconv.Atoi(port); err != nil || (l.opts.Board == QEMU && host != "127.0.0.1" && host != "localhost") {
		return nil, fmt.Errorf("lab: external registrar %q: want 127.0.0.1:PORT", l.opts.External)
	}
	l.opts.Logf("lab: phones register with the external registrar %s", l.opts.External)
	switch l.opts.Board {
	case QEMU:
		err = l.startQEMU(ctx)
	case Sim:
		err = l.startSim(ctx)
	default:
		err = fmt.Errorf("unknown board %q", l.opts.Board)
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %w", err)
	}
	for _, ph := range l.Phones {
		c, err := ph.dialPanel(ctx)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("lab: panel of %s: %w", ph.Ext, err)
		}
		ph.Panel = c
	}
	return l, nil
}

func (l *Lab) externalPort() int {
	_, port, _ := net.SplitHostPort(l.opts.External)
	n, _ := strconv.Atoi(port)
	return n
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

	r := &CallReport{A: a.Ext, B: b.Ext, AHears: levels(ra.samples), BHears: levels(rb.samples)}
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
