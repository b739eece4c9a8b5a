package jitter

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// run plays a script against a Buffer. Steps, space separated:
//
//	P<seq>=<result>   Put a 2-byte payload holding seq; want that PutResult
//	G=<seq>           Get; want a Frame whose payload holds seq
//	G=miss, G=wait    Get; want Missing or Waiting
//	T=<n>             want Target() == n
//	D=<n>             want Delay() == n
func run(t *testing.T, b *Buffer, script string) {
	t.Helper()
	dst := make([]byte, b.cfg.FrameBytes)
	for i, step := range strings.Fields(script) {
		op, want, _ := strings.Cut(step, "=")
		var got string
		switch {
		case op[0] == 'P':
			seq, err := strconv.Atoi(op[1:])
			if err != nil {
				t.Fatalf("bad step %q", step)
			}
			var p [2]byte
			binary.BigEndian.PutUint16(p[:], uint16(seq))
			got = b.Put(uint16(seq), p[:]).String()
		case op == "G":
			n, r := b.Get(dst)
			switch r {
			case Frame:
				if n != 2 {
					t.Fatalf("step %d %q: frame of %d bytes", i, step, n)
				}
				got = strconv.Itoa(int(binary.BigEndian.Uint16(dst)))
			case Missing:
				got = "miss"
			case Waiting:
				got = "wait"
			}
		case op == "T":
			got = strconv.Itoa(b.Target())
		case op == "D":
			got = strconv.Itoa(b.Delay())
		default:
			t.Fatalf("bad step %q", step)
		}
		if got != want {
			t.Fatalf("step %d %q: got %s\nscript: %s", i, step, got, script)
		}
	}
}

func TestScripts(t *testing.T) {
	tests := []struct {
		name   string
		window int
		script string
		want   Stats
	}{
		{"in order", 0,
			"G=wait P10=stored G=wait P11=stored D=2 G=10 P12=stored G=11 P13=stored G=12 D=1",
			Stats{Received: 4}},
		{"reorder before playout", 0,
			"P11=stored P10=stored G=10 G=11",
			Stats{Received: 2}},
		{"reorder in play", 0,
			"P0=stored P1=stored G=0 P3=stored P2=stored G=1 G=2 G=3",
			Stats{Received: 4}},
		{"duplicates", 0,
			"P0=stored P0=duplicate P1=stored G=0 P1=duplicate G=1 P0=late",
			Stats{Received: 2, Duplicate: 2, Late: 1}},
		{"loss", 0,
			"P0=stored P1=stored G=0 P3=stored G=1 G=miss G=3 P4=stored P5=stored G=4",
			Stats{Received: 5, Missing: 1, Lost: 1}},
		{"late grows the target", 0,
			"P0=stored P1=stored T=2 G=0 G=1 G=miss P2=late T=3 P3=stored G=miss G=3 P4=stored G=4",
			Stats{Received: 4, Late: 1, Missing: 2, Inserted: 1}},
		{"sequence wrap", 0,
			"P65534=stored P65535=stored G=65534 P0=stored G=65535 P2=stored P1=stored G=0 G=1 G=2",
			Stats{Received: 5}},
		{"loss across wrap", 0,
			"P65534=stored P65535=stored G=65534 P1=stored G=65535 G=miss G=1",
			Stats{Received: 3, Missing: 1, Lost: 1}},
		{"forward jump restarts", 0,
			"P0=stored P1=stored G=0 P1000=restarted G=wait P1001=stored G=1000 G=1001",
			Stats{Received: 4, Restarts: 1}},
		{"backward jump needs confirmation", 0,
			"P5000=stored P5001=stored G=5000 P100=dropped P5002=stored P100=dropped P101=restarted P102=stored G=101",
			Stats{Received: 5, Restarts: 1, Dropped: 2}},
		{"quiet stream rebuffers", 0,
			"P0=stored P1=stored G=0 G=1 G=miss G=miss G=miss G=miss G=miss G=miss G=miss G=miss G=wait P2=stored G=wait P3=stored G=2",
			Stats{Received: 4, Missing: 8}},
		{"slack shrinks the delay", 3,
			"P0=stored P1=stored G=0 P2=stored G=1 P3=stored G=3 T=1 P4=stored G=4 P5=stored G=5 P6=stored G=6 P7=stored G=7",
			Stats{Received: 8, Dropped: 1}},
		{"no shrink without slack", 3,
			"P0=stored P1=stored G=0 G=1 P2=stored G=2 P3=stored G=3 P4=stored G=4 T=2",
			Stats{Received: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(Config{Depth: 8, FrameBytes: 4, Target: 2, Window: tt.window})
			if err != nil {
				t.Fatal(err)
			}
			run(t, b, tt.script)
			if got := b.Stats(); got != tt.want {
				t.Fatalf("stats\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestOversized(t *testing.T) {
	b, _ := New(Config{Depth: 4, FrameBytes: 4, Target: 1})
	if r := b.Put(1, make([]byte, 5)); r != Dropped {
		t.Fatalf("Put oversized = %v", r)
	}
	if r := b.Put(1, make([]byte, 4)); r != Stored {
		t.Fatalf("Put = %v", r)
	}
}

func TestTargetBounded(t *testing.T) {
	b, _ := New(Config{Depth: 4, FrameBytes: 2, Target: 1})
	run(t, b, "P0=stored G=0 P2=stored G=miss P1=late T=2 G=miss G=2 P4=stored G=miss P3=late T=3 G=miss G=4 P6=stored G=miss P5=late T=3 G=6")
}

func TestResetKeepsStats(t *testing.T) {
	b, _ := New(Config{Depth: 8, FrameBytes: 2, Target: 2})
	run(t, b, "P0=stored P2=stored G=0 G=miss G=2")
	b.Reset()
	run(t, b, "G=wait P7000=stored P7001=stored G=7000")
	if s := b.Stats(); s.Lost != 1 || s.Received != 4 {
		t.Fatalf("stats after reset %+v", s)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		cfg Config
		ok  bool
	}{
		{Config{Depth: 10, FrameBytes: 160, Target: 2}, true},
		{Config{Depth: 1, FrameBytes: 160, Target: 1}, true},
		{Config{Depth: 0, FrameBytes: 160, Target: 1}, false},
		{Config{Depth: 2000, FrameBytes: 160, Target: 1}, false},
		{Config{Depth: 10, FrameBytes: 0, Target: 1}, false},
		{Config{Depth: 10, FrameBytes: 160, Target: 10}, false},
		{Config{Depth: 10, FrameBytes: 160, Target: 0}, false},
		{Config{Depth: 10, FrameBytes: 160, Target: 2, Window: -1}, false},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("New(%+v) error = %v", tt.cfg, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "jitter: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

// TestSteadyJitter feeds packets with a repeating arrival pattern (0, 1 or 2
// packets per Get, averaging one) and checks nothing is lost or late once
// the target has adapted, and that the delay stays small.
func TestSteadyJitter(t *testing.T) {
	b, _ := New(Config{Depth: 10, FrameBytes: 2, Target: 2, Window: 50})
	pattern := []int{1, 0, 2, 1, 1, 0, 2, 1}
	dst := make([]byte, 2)
	var seq uint16 = 60000
	var p [2]byte
	var frames, maxDelay int
	for i := range 4000 {
		for range pattern[i%len(pattern)] {
			binary.BigEndian.PutUint16(p[:], seq)
			b.Put(seq, p[:])
			seq++
		}
		_, r := b.Get(dst)
		if i > 1000 {
			maxDelay = max(maxDelay, b.Delay())
			if r == Frame {
				frames++
			}
		}
	}
	s := b.Stats()
	t.Logf("frames %d of 2999, max delay %d, target %d, stats %+v", frames, maxDelay, b.Target(), s)
	if s.Late > 3 || frames < 2990 || maxDelay > 2 {
		t.Fatalf("frames %d of 2999, max delay %d, stats %+v", frames, maxDelay, s)
	}
}

func TestNoAllocs(t *testing.T) {
	b, _ := New(Config{Depth: 10, FrameBytes: 160, Target: 2})
	payload := make([]byte, 160)
	dst := make([]byte, 160)
	var seq uint16
	if n := testing.AllocsPerRun(1000, func() {
		b.Put(seq, payload)
		b.Put(seq-5, payload) // late
		b.Get(dst)
		seq++
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}
