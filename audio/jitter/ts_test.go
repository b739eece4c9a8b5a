package jitter

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

const fill = 0xff

// stamp fills p with the sample numbers ts, ts+1, ... modulo 256 (0xff, the fill, breaks the run), so a frame
// shows whether its samples came out in order.
func stamp(p []byte, ts uint32) {
	for i := range p {
		p[i] = byte(ts + uint32(i))
	}
}

// continuous reports whether f holds consecutive stamps (gaps of fill
// allowed), and its first stamp.
func continuous(f []byte) bool {
	prev, have := 0, false
	for i, v := range f {
		if v == fill {
			have = false
			continue
		}
		if have && int(v) != (prev+1)%256 {
			return false
		}
		prev, have = int(v), true
		_ = i
	}
	return true
}

// TestPutTSPacketSizes: a far end sending 10, 20, 30 or 40 ms packets into
// 20 ms frames plays every sample once, in order, none missing.
func TestPutTSPacketSizes(t *testing.T) {
	for _, ps := range []int{80, 160, 240, 320} {
		b, err := New(Config{Depth: 10, FrameBytes: 160, Target: 3, Fill: fill, Window: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		ts := uint32(0xffff_ff00) // wraps within the test
		p := make([]byte, ps)
		dst := make([]byte, 160)
		var sent, got uint32
		var out []byte
		for range 200 {
			// Packets arrive as the sender's clock makes them.
			for sent+uint32(ps) <= got+160*4 {
				stamp(p, sent)
				if r := b.PutTS(ts+sent, sent == 0, p); r != Stored {
					t.Fatalf("ptime %d: Put at %d = %v", ps/8, sent, r)
				}
				sent += uint32(ps)
			}
			n, r := b.Get(dst)
			if r != Frame {
				if got == 0 && r == Waiting {
					continue
				}
				t.Fatalf("ptime %d: Get after %d = %v", ps/8, got, r)
			}
			if n != 160 || !continuous(dst) || dst[0] != byte(got) {
				t.Fatalf("ptime %d: frame at %d: % x", ps/8, got, dst[:8])
			}
			out = append(out, dst[0])
			got += 160
		}
		if s := b.Stats(); s.Missing != 0 || s.Partial != 0 || s.Late != 0 || s.Lost != 0 {
			t.Fatalf("ptime %d: stats %+v", ps/8, s)
		}
	}
}

// TestPutTSPacketTime: a buffer at target 1 fed in real time by a far end
// sending 10, 20, 30 or 40 ms packets into 20 ms frames, whatever the phase
// between the two clocks, starts at the first Get once a whole frame has
// come (one packet's worth: a 30 or 40 ms packet raises the target to 2
// frames, so a 30 ms one starts a packet later) and never plays a frame
// late, missing or in part; frames dropped only to shrink the delay.
func TestPutTSPacketTime(t *testing.T) {
	for _, ps := range []int{80, 160, 240, 320} {
		for _, ph := range []int{0, 40, 80, 120} {
			b, _ := New(Config{Depth: 10, FrameBytes: 160, Target: 1, Fill: fill, Window: 100})
			p := make([]byte, ps)
			dst := make([]byte, 160)
			sent, played, start := 0, 0, -1
			for k := range 3000 {
				now := 160*k + ph // sample time of this Get
				for sent+ps <= now {
					stamp(p, uint32(sent))
					b.PutTS(uint32(sent), sent == 0, p)
					sent += ps
				}
				_, r := b.Get(dst)
				if r == Waiting && start < 0 {
					continue
				}
				if start < 0 {
					start = now
				}
				want := 160 * (played + int(b.Stats().Dropped))
				if r != Frame || !continuous(dst) || dst[0] != byte(want) {
					t.Fatalf("ptime %d phase %d: Get %d, frame at %d: %v % x", ps/8, ph, k, want, r, dst[:4])
				}
				played++
			}
			// The first Get once frame 0 (two frames at 30 ms) has come.
			whole := max(ps, 160)
			if ps == 240 {
				whole = 480
			}
			first := (whole-ph+159)/160*160 + ph
			if s := b.Stats(); start != first || s.Missing != 0 || s.Partial != 0 || s.Late != 0 {
				t.Errorf("ptime %d phase %d: started at %d (want %d), target %d, %+v", ps/8, ph, start, first, b.Target(), s)
			}
		}
	}
}

// TestPutTSCases covers reordering, duplicates, a lost part, timestamp
// jumps and a talkspurt off the frame grid.
func TestPutTSCases(t *testing.T) {
	b, _ := New(Config{Depth: 8, FrameBytes: 160, Target: 2, Fill: fill})
	dst := make([]byte, 160)
	put := func(ts uint32, n int, marker bool, want PutResult) {
		t.Helper()
		p := make([]byte, n)
		stamp(p, ts)
		if r := b.PutTS(ts, marker, p); r != want {
			t.Fatalf("PutTS(%d, %d) = %v, want %v", ts, n, r, want)
		}
	}
	get := func(want GetResult, ts uint32, full bool) {
		t.Helper()
		_, r := b.Get(dst)
		for i := 0; r == Waiting && want == Frame && i < 3; i++ {
			_, r = b.Get(dst) // a restarted buffer fills to its target first
		}
		if r != want {
			t.Fatalf("Get = %v, want %v", r, want)
		}
		if r != Frame {
			return
		}
		if dst[0] != byte(ts) && full || !continuous(dst) {
			t.Fatalf("frame want %d: % x", ts, dst[:16])
		}
		if hole := dst[100] == fill || dst[0] == fill; hole == full {
			t.Fatalf("frame %d: full %v: % x", ts, full, dst)
		}
	}
	// 10 ms packets, the second and third swapped, one duplicated.
	put(1000, 80, true, Stored)
	put(1160, 80, false, Stored)
	put(1080, 80, false, Stored)
	put(1080, 80, false, Duplicate)
	put(1240, 80, false, Stored)
	get(Frame, 1000, true)
	get(Frame, 1160, true)
	// 1320 lost, 1400 arrives: a partial frame.
	put(1400, 80, false, Stored)
	get(Frame, 1320, false)
	get(Missing, 0, false)
	// Late: 1320 arrives after its frame played.
	put(1320, 80, false, Late)
	// Timestamp jump forward (a far end restarting its clock).
	put(900000, 160, true, Restarted)
	put(900160, 160, false, Stored)
	if s := b.Stats(); s.Restarts != 1 || s.Partial != 1 || s.Duplicate != 1 || s.Late != 1 {
		t.Fatalf("stats %+v", s)
	}
	for range 10 {
		_, r := b.Get(dst)
		if r == Frame && !continuous(dst) {
			t.Fatal("frame out of order")
		}
	}
	// Quiet, then a talkspurt off the grid: realigned, played whole.
	tsp := uint32(900000 + 12*160 + 40)
	put(tsp, 160, true, Restarted)
	put(tsp+160, 160, false, Stored)
	put(tsp+320, 160, false, Stored)
	put(tsp+480, 160, false, Stored)
	get(Frame, tsp, true)
	get(Frame, tsp+160, true)
	get(Frame, tsp+320, true)
	get(Frame, tsp+480, true)
	// A talkspurt behind the playout clock: playout restarts at it.
	put(tsp+640-8000, 160, true, Restarted)
	put(tsp+800-8000, 160, false, Stored)
	put(tsp+960-8000, 160, false, Stored)
	put(tsp+1120-8000, 160, false, Stored)
	get(Frame, tsp+640-8000, true)
	get(Frame, tsp+800-8000, true)
}

// driftRun plays an hour of a far end whose clock runs ppm fast (negative:
// slow) against our playout clock, with packets of ps samples, uniform
// jitter of jit ms and random loss; it returns the largest delay seen in
// the last ten minutes and the fraction of frames concealed.
func driftRun(t *testing.T, ps int, ppm, jit, loss float64, seed uint64) (maxDelay int, concealed float64, st Stats) {
	b, _ := New(Config{Depth: 12, FrameBytes: 160, Target: 2, Window: 100, Fill: fill})
	rng := rand.New(rand.NewPCG(seed, 2))
	const frames = 3600 * 50
	pkts := frames * 160 / ps
	type arr struct {
		at float64
		ts uint32
	}
	a := make([]arr, 0, pkts)
	period := float64(ps) / 8 * (1 - ppm*1e-6)
	for k := range pkts {
		if rng.Float64() < loss {
			continue
		}
		a = append(a, arr{at: float64(k+1)*period + rng.Float64()*jit, ts: uint32(k * ps)})
	}
	sort.Slice(a, func(i, j int) bool { return a[i].at < a[j].at })
	p := make([]byte, ps)
	dst := make([]byte, 160)
	var miss, due int
	next := 0
	for j := range frames {
		now := float64(j)*20 + 7
		for next < len(a) && a[next].at <= now {
			stamp(p, a[next].ts)
			b.PutTS(a[next].ts, next == 0, p)
			next++
		}
		_, r := b.Get(dst)
		if r == Frame && !continuous(dst) {
			t.Fatalf("frame %d out of order", j)
		}
		if j > 250 && r != Waiting {
			due++
			if r == Missing {
				miss++
			}
		}
		if j > frames-30000 {
			maxDelay = max(maxDelay, b.Delay())
		}
	}
	return maxDelay, float64(miss) / float64(due), b.Stats()
}

// TestDrift: clocks 100 ppm apart either way for an hour neither grow the
// delay nor starve the buffer.
func TestDrift(t *testing.T) {
	testtool.Long(t, "make race") // an hour of frames
	for _, tt := range []struct {
		ppm float64
		ps  int
	}{{100, 160}, {-100, 160}, {100, 80}, {-100, 240}, {0, 160}} {
		md, c, st := driftRun(t, tt.ps, tt.ppm, 2, 0, 1)
		t.Logf("%+.0f ppm, %d ms packets: max delay %d frames, concealed %.3f%%, %+v", tt.ppm, tt.ps/8, md, 100*c, st)
		if md > 3 || c > 0.001 {
			t.Errorf("%+.0f ppm, %d ms packets: max delay %d frames in the last 10 minutes, concealed %.3f%%",
				tt.ppm, tt.ps/8, md, 100*c)
		}
	}
}

func TestPutTSNoAllocs(t *testing.T) {
	b, _ := New(Config{Depth: 10, FrameBytes: 160, Target: 2})
	p := make([]byte, 240)
	dst := make([]byte, 160)
	var ts uint32
	if n := testing.AllocsPerRun(1000, func() {
		b.PutTS(ts, false, p)
		b.PutTS(ts-800, false, p) // late
		b.Get(dst)
		b.Get(dst)
		b.Get(dst)
		b.Get(dst)
		ts += 240
		b.PutTS(ts, false, p)
		ts += 240
		b.PutTS(ts, false, p)
		ts += 240
		b.PutTS(ts, false, p)
		ts += 240
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

// TestGrowAndShrink: 60 s of 40 ms jitter grow the delay; 60 s without
// jitter afterwards bring it back to one frame.
func TestGrowAndShrink(t *testing.T) {
	b, _ := New(Config{Depth: 12, FrameBytes: 160, Target: 1, Window: 100, Fill: fill})
	rng := rand.New(rand.NewPCG(5, 5))
	type arr struct {
		at float64
		ts uint32
	}
	var a []arr
	for k := range 6000 {
		j := 0.0
		if k < 3000 {
			j = rng.Float64() * 40
		}
		a = append(a, arr{float64(k)*20 + j, uint32(k * 160)})
	}
	sort.Slice(a, func(i, j int) bool { return a[i].at < a[j].at })
	p, dst := make([]byte, 160), make([]byte, 160)
	next := 0
	var peak, end int
	for j := range 6000 {
		now := float64(j)*20 + 5
		for next < len(a) && a[next].at <= now {
			b.PutTS(a[next].ts, next == 0, p)
			next++
		}
		b.Get(dst)
		if j < 3000 {
			peak = max(peak, b.Target())
		} else {
			end = b.Target()
		}
	}
	t.Logf("target at 40 ms jitter up to %d frames, after 60 s without jitter %d; %+v", peak, end, b.Stats())
	if peak < 2 || end != 1 {
		t.Fatalf("target peak %d, end %d", peak, end)
	}
}
