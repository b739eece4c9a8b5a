package audio

import (
	"math"
	"math/rand/v2"
	"net"
	"sort"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// netModel is the network between two engines in simCall.
type netModel struct {
	jitterMs float64 // each packet delayed uniformly in [0, jitterMs]
	loss     float64 // probability a packet is lost
	reorder  float64 // probability a packet is held back one packet time more
}

type simResult struct {
	m2eMean, m2eMax    float64 // phone-added mouth-to-ear once settled (after the first tenth of the call), ms
	bufMean            float64 // simCall: frames left waiting after playout, ms; simPhases: delay added by buffering
	measured, impulses int
	st                 Stats
	// The call's first 2 s: mouth-to-ear of the impulses sent in them
	// (mean, max, how many measured), and the late packets and concealed
	// frames counted by then.
	early struct {
		m2eMean, m2eMax float64
		measured        int
		late, concealed uint64
	}
}

// earlyMs is how much of a call's start simResult.early covers.
const earlyMs = 2000

// simCall is a call from engine A to engine B with the network simulated
// in virtual time: A's real Process sends real packets to a socket on
// 127.0.0.1; the test reads them and hands each to B's receive path at its
// arrival time; B's audio loop runs at phase ms after A's. An impulse goes
// into A's microphone every 25 frames at a random sample; its time out of
// B's earpiece gives the phone-added mouth-to-ear latency: from the
// sample's capture (its frame is complete and processed at the end of the
// period) to its playout (the frame B computes plays from that moment).
func simCall(tb testing.TB, cfg Config, nm netModel, frames int, phase float64, seed uint64) simResult {
	tb.Helper()
	a, err := NewEngine(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	b, _ := NewEngine(cfg)
	ca, cb, sinkA, sinkB := listen(tb), listen(tb), listen(tb), listen(tb)
	if err := a.StartStream(ca, sinkA.LocalAddr().(*net.UDPAddr), PCMU); err != nil {
		tb.Fatal(err)
	}
	defer a.StopStream()
	if err := b.StartStream(cb, sinkB.LocalAddr().(*net.UDPAddr), PCMU); err != nil {
		tb.Fatal(err)
	}
	defer b.StopStream()
	from := sinkB.LocalAddr().(*net.UDPAddr).AddrPort()
	ptime := float64(a.cfg.Ptime)
	n := a.FrameSamples()
	rng := rand.New(rand.NewPCG(seed, 7))
	type arrival struct {
		at  float64
		pkt []byte
	}
	var inflight []arrival
	mic, ear := make([]int16, n), make([]int16, n)
	var rx rtp.Packet
	buf := make([]byte, 1500)
	var res simResult
	var lat []float64
	var impulseAt float64 = -1
	impulseEarly := false
	var bufSum float64
	for k := range frames {
		tA := float64(k) * ptime
		if tA == earlyMs {
			st := b.Stats()
			res.early.late, res.early.concealed = st.Late, st.Concealed
		}
		clear(mic)
		if k%25 == 5 {
			pos := rng.IntN(n)
			mic[pos] = 20000
			// Captured during the period before tA.
			impulseAt = tA - ptime + float64(pos)*1000/float64(a.cfg.Rate)
			impulseEarly = tA < earlyMs
			res.impulses++
		}
		a.Process(mic, ear)
		sinkA.SetReadDeadline(time.Now().Add(deadline))
		m, _, err := sinkA.ReadFromUDPAddrPort(buf)
		if err != nil {
			tb.Fatal(err)
		}
		if rng.Float64() >= nm.loss {
			at := tA + rng.Float64()*nm.jitterMs
			if rng.Float64() < nm.reorder {
				at += ptime + 1
			}
			inflight = append(inflight, arrival{at, append([]byte(nil), buf[:m]...)})
		}
		// B's period at tA+phase: deliver what has arrived, then play.
		tB := tA + phase
		sort.SliceStable(inflight, func(i, j int) bool { return inflight[i].at < inflight[j].at })
		for len(inflight) > 0 && inflight[0].at <= tB {
			b.receive(&rx, inflight[0].pkt, from)
			inflight = inflight[1:]
		}
		b.Process(mic[:0], ear)
		if k > frames/10 {
			bufSum += float64(b.Stats().Delay) / float64(time.Millisecond)
		}
		if impulseAt >= 0 {
			for i, s := range ear {
				if s > 10000 || s < -10000 {
					l := tB + float64(i)*1000/float64(a.cfg.Rate) - impulseAt
					if k > frames/10 {
						lat = append(lat, l)
					}
					if impulseEarly {
						res.early.measured++
						res.early.m2eMean += l
						res.early.m2eMax = math.Max(res.early.m2eMax, l)
					}
					impulseAt = -1
					break
				}
			}
			if impulseAt >= 0 && tB-impulseAt > 400 {
				impulseAt = -1 // lost
			}
		}
	}
	res.measured = len(lat)
	for _, l := range lat {
		res.m2eMean += l
		res.m2eMax = math.Max(res.m2eMax, l)
	}
	if len(lat) > 0 {
		res.m2eMean /= float64(len(lat))
	}
	if res.early.measured > 0 {
		res.early.m2eMean /= float64(res.early.measured)
	}
	res.bufMean = bufSum / float64(frames-frames/10-1)
	res.st = b.Stats()
	return res
}

// TestMouthToEar: at 20 ms packets with no network jitter the phone adds
// at most 40 ms mouth to ear, whatever the phase between the two phones'
// clocks, from the call's first 2 s on; with 10 ms jitter and 1% loss the
// jitter buffer holds at most 30 ms on average. Virtual time: nothing here
// depends on the machine's speed.
func TestMouthToEar(t *testing.T) {
	for _, phase := range []float64{0.5, 5, 10, 15, 19.5} {
		r := simCall(t, Config{}, netModel{}, 1500, phase, 1)
		t.Logf("no jitter, phase %v ms: mouth-to-ear mean %.1f ms, max %.1f ms (%d of %d impulses); first 2 s %.1f / %.1f ms (%d)",
			phase, r.m2eMean, r.m2eMax, r.measured, r.impulses, r.early.m2eMean, r.early.m2eMax, r.early.measured)
		if r.m2eMax > 40 || r.measured < r.impulses*8/10 || r.st.Concealed > 2 {
			t.Errorf("no jitter, phase %v ms: max %.1f ms, %d measured, %+v", phase, r.m2eMax, r.measured, r.st)
		}
		if r.early.m2eMax > 40 || r.early.measured < 4 {
			t.Errorf("no jitter, phase %v ms, first 2 s: max %.1f ms, %d measured", phase, r.early.m2eMax, r.early.measured)
		}
	}
	r := simPhases(t, Config{}, netModel{jitterMs: 10, loss: 0.01})
	t.Logf("10 ms jitter, 1%% loss: mouth-to-ear mean %.1f ms, max %.1f ms, added by buffering %.1f ms, %+v",
		r.m2eMean, r.m2eMax, r.bufMean, r.st)
	if r.bufMean > 30 {
		t.Errorf("10 ms jitter, 1%% loss: buffer %.1f ms", r.bufMean)
	}
}

// simPhases averages simCall over five phases between the phones' clocks
// (0.1 to 0.9 of a period; 60 s calls); bufMean becomes the delay added by
// buffering: mouth-to-ear less its floor (one period plus the phase).
func simPhases(tb testing.TB, cfg Config, nm netModel) simResult {
	var sum simResult
	pt := 20.0
	if cfg.Ptime != 0 {
		pt = float64(cfg.Ptime)
	}
	phases := []float64{0.1, 0.3, 0.5, 0.7, 0.9}
	frames := int(60000 / pt)
	for i, f := range phases {
		ph := f * pt
		r := simCall(tb, cfg, nm, frames, ph, uint64(3+i))
		sum.m2eMean += r.m2eMean / float64(len(phases))
		sum.m2eMax = math.Max(sum.m2eMax, r.m2eMax)
		sum.bufMean += (r.m2eMean - pt - ph) / float64(len(phases))
		sum.st.Late += r.st.Late
		sum.st.Concealed += r.st.Concealed
		sum.st.Lost += r.st.Lost
		sum.early.m2eMean += r.early.m2eMean * float64(r.early.measured)
		sum.early.m2eMax = math.Max(sum.early.m2eMax, r.early.m2eMax)
		sum.early.measured += r.early.measured
		sum.early.late += r.early.late
		sum.early.concealed += r.early.concealed
	}
	if sum.early.measured > 0 {
		sum.early.m2eMean /= float64(sum.early.measured)
	}
	sum.st.Late /= uint64(len(phases))
	sum.st.Concealed /= uint64(len(phases))
	sum.st.Lost /= uint64(len(phases))
	sum.early.late /= uint64(len(phases))
	sum.early.concealed /= uint64(len(phases))
	return sum
}

// BenchmarkJitterScenarios reports, per network scenario, what a 60 s call
// at 20 ms packets gets through the engine (virtual time, see simCall):
// mouth-to-ear latency (mean, max) once settled, the delay added by
// buffering, and late, concealed and lost counts per 60 s call, averaged
// over five clock phases; and the same call's first 2 s: mouth-to-ear of
// the impulses sent in them (mean, max: m2e-2s-ms, m2e-2s-max-ms) and the
// late packets and concealed frames by then (late-2s, concealed-2s).
func BenchmarkJitterScenarios(b *testing.B) {
	for _, sc := range []struct {
		name string
		cfg  Config
		nm   netModel
	}{
		{"jitter0", Config{}, netModel{}},
		{"jitter10", Config{}, netModel{jitterMs: 10}},
		{"jitter20", Config{}, netModel{jitterMs: 20}},
		{"jitter40", Config{}, netModel{jitterMs: 40}},
		{"loss1", Config{}, netModel{loss: 0.01}},
		{"loss5", Config{}, netModel{loss: 0.05}},
		{"loss20", Config{}, netModel{loss: 0.20}},
		{"jitter10-loss1", Config{}, netModel{jitterMs: 10, loss: 0.01}},
		{"reorder5", Config{}, netModel{reorder: 0.05}},
		{"ptime10-jitter0", Config{Ptime: 10}, netModel{}},
		{"ptime30-jitter0", Config{Ptime: 30}, netModel{}},
	} {
		b.Run(sc.name, func(b *testing.B) {
			var r simResult
			for b.Loop() {
				r = simPhases(b, sc.cfg, sc.nm)
			}
			b.ReportMetric(r.m2eMean, "m2e-ms")
			b.ReportMetric(r.m2eMax, "m2e-max-ms")
			b.ReportMetric(r.bufMean, "added-ms")
			b.ReportMetric(float64(r.st.Late), "late")
			b.ReportMetric(float64(r.st.Concealed), "concealed")
			b.ReportMetric(float64(r.st.Lost), "lost")
			b.ReportMetric(r.early.m2eMean, "m2e-2s-ms")
			b.ReportMetric(r.early.m2eMax, "m2e-2s-max-ms")
			b.ReportMetric(float64(r.early.late), "late-2s")
			b.ReportMetric(float64(r.early.concealed), "concealed-2s")
		})
	}
}
