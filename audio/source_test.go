package audio

import "testing"

// TestSourceProbation follows RFC 3550 A.1: a new source is valid after two
// packets in sequence; large jumps need confirming; loss is counted.
func TestSourceProbation(t *testing.T) {
	var s rxSource
	s.start(7, 100)
	steps := []struct {
		seq  uint16
		want bool
	}{
		{100, false}, // probation
		{101, true},  // valid
		{102, true},
		{104, true},   // 103 lost
		{103, true},   // reordered: counted
		{9000, false}, // jump: not believed
		{9001, true},  // confirmed: restart
		{9002, true},
		{65535, false},
		{0, true}, // confirmed after a jump across the wrap
		{1, true},
	}
	for i, st := range steps {
		if got := s.update(st.seq); got != st.want {
			t.Fatalf("step %d seq %d: valid %v", i, st.seq, got)
		}
	}
	if s.lost() != 0 || s.extMax() != 1 {
		t.Fatalf("lost %d ext %d", s.lost(), s.extMax())
	}
	s.start(1, 65534)
	for _, q := range []uint16{65534, 65535, 0, 2, 3} {
		s.update(q)
	}
	if s.lost() != 1 || s.extMax() != 65536+3 {
		t.Fatalf("across the wrap: lost %d ext %d", s.lost(), s.extMax())
	}
	if f := s.fraction(); f != 256/5 { // 1 of 5 since 65535, the first valid
		t.Fatalf("fraction %d", f)
	}
}

func TestJitterEstimate(t *testing.T) {
	var s rxSource
	// Packets every 160 ticks arriving alternately 0 and 80 ticks late:
	// |D| = 80 each time; the estimate converges to 80.
	for k := range 2000 {
		s.arrival(uint32(k*160), uint32(k*160+80*(k%2)))
	}
	if j := s.jitter >> 4; j < 75 || j > 80 {
		t.Fatalf("jitter %d, want about 80", j)
	}
}
