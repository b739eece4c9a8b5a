package lab

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkMouthToEarSim measures in real time the phone-added
// mouth-to-ear latency between two sim phones in a call through the
// development PBX (signalling through the PBX, RTP phone to phone on
// loopback: 20 ms packets, no jitter to speak of): impulses into 1001's
// microphone stream timed out of 1002's earpiece stream, the panel's own
// frame not counted (MeasureMouthToEar). It reports the call's first 2 s
// (m2e-2s-ms, m2e-2s-max-ms) and, from 4 s on, settled (m2e-ms,
// m2e-max-ms), with how many impulses were timed of those sent, and the
// phase between the two phones' frame clocks (phase-ms: at no jitter the
// latency is a frame plus it, or a frame more when it is near 0). Figures,
// never assertions: the machine's load shows in them. It runs in make
// bench (-short included: it is the only place it runs).
func BenchmarkMouthToEarSim(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := b.TempDir()
	l, err := Start(ctx, Options{Board: Sim, Exts: []string{"1001", "1002"}, Dir: dir, Logf: b.Logf})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		l.Close()
		if b.Failed() {
			l.LogConsoles(b.Logf)
		}
	}()
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	_, err = l.WaitRegistered(rctx)
	rcancel()
	if err != nil {
		b.Fatal(err)
	}
	f := NewFlow(b, ctx, l)
	const callFor = 8 * time.Second
	var early, settled Latency
	var lats []string // each impulse's, ms (0: not timed)
	var phase time.Duration
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for b.Loop() {
		f.Do("1001", "dial 1002")
		f.Expect("1002", `^ring on`)
		type result struct {
			m   Measurement
			err error
		}
		done := make(chan result, 1)
		go func() {
			m, err := MeasureMouthToEar(ctx, f.Phone("1001"), f.Phone("1002"), callFor+time.Second)
			done <- result{m, err}
		}()
		f.Do("1002", "hook off")
		f.Expect("1002", `^phone connected$`)
		f.Expect("1001", `^phone connected$`)
		start := time.Now() // 1001's stream starts as it shows connected
		r := <-done
		if r.err != nil {
			b.Fatal(r.err)
		}
		lats = lats[:0]
		phase = r.m.Phase
		for _, i := range r.m.Impulses {
			if !i.Captured.Before(start) {
				lats = append(lats, fmt.Sprintf("%.0f", ms(i.Latency)))
			}
		}
		early = LatencyOf(r.m.Impulses, start, start.Add(2*time.Second))
		settled = LatencyOf(r.m.Impulses, start.Add(4*time.Second), start.Add(callFor))
		f.HangupAll()
	}
	b.Logf("each impulse from the call's start, every 200 ms: %s ms", strings.Join(lats, " "))
	b.Logf("first 2 s: mean %.1f ms, max %.1f ms (%d of %d impulses timed); settled: mean %.1f ms, max %.1f ms (%d of %d); 1002's frame clock %.1f ms after 1001's",
		ms(early.Mean), ms(early.Max), early.Measured, early.Sent,
		ms(settled.Mean), ms(settled.Max), settled.Measured, settled.Sent, ms(phase))
	b.ReportMetric(ms(early.Mean), "m2e-2s-ms")
	b.ReportMetric(ms(early.Max), "m2e-2s-max-ms")
	b.ReportMetric(float64(early.Measured), "timed-2s")
	b.ReportMetric(ms(settled.Mean), "m2e-ms")
	b.ReportMetric(ms(settled.Max), "m2e-max-ms")
	b.ReportMetric(float64(settled.Measured), "timed")
	b.ReportMetric(ms(phase), "phase-ms")
}

func TestLatencyOf(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	imp := []Impulse{{t0.Add(-ms), 90 * ms}, {t0, 30 * ms}, {t0.Add(200 * ms), 0}, {t0.Add(400 * ms), 40 * ms}, {t0.Add(2 * time.Second), 20 * ms}}
	got := LatencyOf(imp, t0, t0.Add(2*time.Second))
	if want := (Latency{Mean: 35 * ms, Max: 40 * ms, Measured: 2, Sent: 3}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
