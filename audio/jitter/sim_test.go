package jitter

import (
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"testing"
)

// simulate plays a 20 ms stream through a Buffer for 60 s: packet k is sent
// at 20k ms and arrives after a uniformly random delay in [0, jitter] ms
// unless lost (independently, with probability loss); the playout clock
// ticks every 20 ms at phase ms. It returns the mean and the 99th percentile
// of the time played frames spent in the buffer, and the fraction of
// frames concealed after the first second.
func simulate(t *testing.T, jitter, loss float64, phase float64, seed uint64) (mean, p99, concealed float64) {
	t.Helper()
	const ptime, n = 20.0, 3000
	b, err := New(Config{Depth: 10, FrameBytes: 2, Target: 2, Window: 100})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	type arrival struct {
		at  float64
		seq uint16
	}
	var arr []arrival
	for k := range n {
		if rng.Float64() < loss {
			continue
		}
		arr = append(arr, arrival{at: float64(k)*ptime + rng.Float64()*jitter, seq: uint16(k)})
	}
	sort.Slice(arr, func(i, j int) bool { return arr[i].at < arr[j].at })
	arrivedAt := make(map[uint16]float64)
	var delays []float64
	var missing, due int
	dst := make([]byte, 2)
	var p [2]byte
	next := 0
	for j := range n {
		now := float64(j)*ptime + phase
		for next < len(arr) && arr[next].at <= now {
			binary.BigEndian.PutUint16(p[:], arr[next].seq)
			b.Put(arr[next].seq, p[:])
			arrivedAt[arr[next].seq] = arr[next].at
			next++
		}
		nb, r := b.Get(dst)
		if j < 50 {
			continue
		}
		switch r {
		case Frame:
			due++
			delays = append(delays, now-arrivedAt[binary.BigEndian.Uint16(dst[:nb])])
		case Missing:
			due++
			missing++
		}
	}
	sort.Float64s(delays)
	var sum float64
	for _, d := range delays {
		sum += d
	}
	return sum / float64(len(delays)), delays[len(delays)*99/100], float64(missing) / float64(due)
}

// TestSimulatedNetwork checks DESIGN.md's jitter-buffer budget in
// simulation: with no jitter the buffer adds at most one frame period; at
// 10 ms jitter and 1% loss frames wait 30 ms or less on average, and little
// beyond the loss is concealed.
func TestSimulatedNetwork(t *testing.T) {
	tests := []struct {
		name         string
		jitter, loss float64
		maxMean      float64
		maxConcealed float64
	}{
		{"no jitter", 0, 0, 20, 0},
		{"10 ms jitter 1% loss", 10, 0.01, 30, 0.02},
		{"30 ms jitter", 30, 0, 50, 0.01},
	}
	for _, tt := range tests {
		for _, phase := range []float64{0.5, 5, 9.5, 15, 19.5} {
			mean, p99, conc := simulate(t, tt.jitter, tt.loss, phase, uint64(phase*10))
			t.Logf("%s, phase %v ms: mean %.1f ms, p99 %.1f ms, concealed %.2f%%", tt.name, phase, mean, p99, 100*conc)
			if mean > tt.maxMean || conc > tt.maxConcealed {
				t.Errorf("%s, phase %v ms: mean %.1f ms (max %v), concealed %.2f%% (max %.2f%%)",
					tt.name, phase, mean, tt.maxMean, 100*conc, 100*tt.maxConcealed)
			}
		}
	}
}
