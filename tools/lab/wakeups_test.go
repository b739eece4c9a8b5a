package lab

import (
	"context"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/deskphone/deskphone/tools/panelclient"
)

// BenchmarkWakeups measures a sim phone's phoned process from /proc (see
// Usage) while it is registered and idle on hook, and while it is in a
// call with audio both ways, and how long dial tone takes to reach the
// earpiece after the handset is lifted. It reports, never asserts (the
// budgets are docs/DESIGN.md's): wakeups/frame in the call (both phones'
// context switches per second / 50, the mean of the two), idle-wakeups/s,
// idle-cpu-ms/s and dialtone-ms (the median of three lifts).
//
//	go test -run '^$' -bench Wakeups -benchtime=1x -v ./tools/lab
func BenchmarkWakeups(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := Start(ctx, Options{Board: Sim, Exts: []string{"1001", "1002"}, Dir: b.TempDir(), Logf: b.Logf})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		l.Close()
		if b.Failed() {
			l.LogConsoles(b.Logf)
		}
	}()
	if _, err := l.WaitRegistered(ctx); err != nil {
		b.Fatal(err)
	}
	a, z := l.Phones[0], l.Phones[1]
	f := NewFlow(b, ctx, l)
	measure := func(ph *Phone, d time.Duration) Cost {
		u0, err := ph.Usage()
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(d)
		u1, err := ph.Usage()
		if err != nil {
			b.Fatal(err)
		}
		return u1.Since(u0)
	}
	b.ResetTimer()
	for range b.N {
		// Idle: registered, on hook, nothing playing (the registration's
		// refresh is minutes away), once the start's work is over (the
		// message-summary subscription, the runtime's first GC and
		// scavenging).
		time.Sleep(3 * time.Second)
		idle := measure(a, 10*time.Second)
		b.Logf("idle %s: %s", a.Ext, idle)

		// Dial tone: from "hook off" to the first sound in the earpiece.
		var lat []time.Duration
		for range 3 {
			sound := make(chan time.Time, 1)
			var sent time.Time
			done := make(chan error, 1)
			go func() {
				done <- a.Panel.RecordFunc(time.Now().Add(1500*time.Millisecond), func(s []int16) {
					for _, v := range s {
						if v != 0 {
							select {
							case sound <- time.Now():
							default:
							}
							return
						}
					}
				})
			}()
			time.Sleep(100 * time.Millisecond) // RecordFunc has flushed
			sent = time.Now()
			f.Do(a.Ext, "hook off")
			f.Expect(a.Ext, `^tone dial$`)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			select {
			case t := <-sound:
				lat = append(lat, t.Sub(sent))
			default:
				b.Fatal("no dial tone in the earpiece within 1.4 s of hook off")
			}
			f.Do(a.Ext, "hook on")
			f.Expect(a.Ext, `^phone idle$`)
			time.Sleep(300 * time.Millisecond)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.Logf("dial tone after hook off: %v", lat)

		// A call, with a tone into each microphone. The lab, the phones'
		// sound card here, takes their earpiece streams in batches
		// (panelclient's SetEarpieceBatch says why), as tools/perf does.
		for _, ph := range []*Phone{a, z} {
			ph.Panel.SetEarpieceBatch(panelclient.MeasureBatch)
		}
		f.Do(a.Ext, "hook off")
		f.Expect(a.Ext, `^tone dial$`)
		f.Do(a.Ext, "dial "+z.Ext)
		f.Expect(z.Ext, `^ring on`)
		playCtx, stopPlaying := context.WithCancel(ctx)
		go a.Panel.PlayTone(playCtx, ToneAtoB, toneAmp)
		go z.Panel.PlayTone(playCtx, ToneBtoA, toneAmp)
		f.Do(z.Ext, "hook off")
		f.Expect(a.Ext, `^phone connected$`)
		time.Sleep(time.Second)
		ca, cz := make(chan Cost, 1), make(chan Cost, 1)
		go func() { ca <- measure(a, 3*time.Second) }()
		go func() { cz <- measure(z, 3*time.Second) }()
		callA, callZ := <-ca, <-cz
		stopPlaying()
		for _, ph := range []*Phone{a, z} {
			ph.Panel.SetEarpieceBatch(0)
		}
		b.Logf("call %s: %s", a.Ext, callA)
		b.Logf("call %s: %s", z.Ext, callZ)
		f.Do(a.Ext, "hook on")
		f.Expect(z.Ext, `^call \d+ ended:`)
		f.Do(z.Ext, "hook on")
		f.Expect(z.Ext, `^phone idle$`)

		b.ReportMetric((callA.PerFrame()+callZ.PerFrame())/2, "wakeups/frame")
		b.ReportMetric(float64(callA.CPUPerSecond()+callZ.CPUPerSecond())/2/float64(time.Millisecond), "call-cpu-ms/s")
		b.ReportMetric(idle.PerSecond(), "idle-wakeups/s")
		b.ReportMetric(float64(idle.CPUPerSecond())/float64(time.Millisecond), "idle-cpu-ms/s")
		b.ReportMetric(float64(lat[1])/float64(time.Millisecond), "dialtone-ms")
	}
}
