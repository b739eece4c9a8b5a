package jitter

import (
	"encoding/binary"
	"testing"
)

// FuzzBuffer drives a Buffer with an arbitrary sequence of Puts and Gets
// (three bytes a step) and checks its invariants: no panic, frames come out
// in strictly increasing sequence order between restarts, never longer than
// a frame, the delay never above the depth, the target within its bounds.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 1, 0, 2, 0, 0, 0, 1, 0, 3, 0, 0})
	f.Add([]byte{0, 0x80, 3, 0, 0x7f, 3, 2, 0, 0, 2, 0, 0, 0, 1, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		const depth, frame = 6, 8
		b, err := New(Config{Depth: depth, FrameBytes: frame, Target: 2, Window: 5})
		if err != nil {
			t.Fatal(err)
		}
		var seq uint16
		payload := make([]byte, frame+2)
		dst := make([]byte, frame)
		var last uint16
		var haveLast bool
		restarts := uint64(0)
		for len(data) >= 3 {
			op, a, c := data[0], data[1], data[2]
			data = data[3:]
			if op%4 < 2 {
				seq += uint16(int16(int8(a)))
				if op%4 == 1 {
					seq += uint16(c) << 8 // large jumps too
				}
				n := 2 + int(c)%(frame)
				binary.BigEndian.PutUint16(payload, seq)
				b.Put(seq, payload[:n])
			} else {
				n, r := b.Get(dst)
				if n > frame || (r != Frame && n != 0) {
					t.Fatalf("Get = %d, %v", n, r)
				}
				if s := b.Stats(); s.Restarts != restarts {
					restarts, haveLast = s.Restarts, false
				}
				if r == Frame {
					got := binary.BigEndian.Uint16(dst)
					if haveLast && int16(got-last) <= 0 {
						t.Fatalf("frame %d after %d", got, last)
					}
					last, haveLast = got, true
				}
			}
			if d := b.Delay(); d > depth {
				t.Fatalf("delay %d > depth %d", d, depth)
			}
			if tg := b.Target(); tg < 1 || tg > depth-1 {
				t.Fatalf("target %d", tg)
			}
		}
	})
}

// FuzzBufferTS drives PutTS with arbitrary timestamps, sizes and markers
// (four bytes a step) and Gets, and checks: no panic, frames never longer
// than a frame, the delay never above the depth, the target within its
// bounds, the stamps inside each frame consecutive.
func FuzzBufferTS(f *testing.F) {
	f.Add([]byte{0, 1, 80, 0, 0, 2, 80, 0, 2, 0, 0, 0, 0, 3, 240, 1, 2, 0, 0, 0})
	f.Add([]byte{1, 0x80, 40, 1, 0, 0x7f, 160, 0, 2, 0, 0, 0, 3, 9, 9, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		const depth, frame = 6, 160
		b, err := New(Config{Depth: depth, FrameBytes: frame, Target: 2, Window: 5, Fill: fill})
		if err != nil {
			t.Fatal(err)
		}
		var ts uint32
		payload := make([]byte, 4*frame)
		dst := make([]byte, frame)
		for len(data) >= 4 {
			op, a, n, m := data[0], data[1], int(data[2]), data[3]
			data = data[4:]
			switch op % 4 {
			case 0, 1:
				ts += uint32(int32(int8(a))) * 40
				if op%4 == 1 {
					ts += uint32(m) << 16 // large jumps too
				}
				n = 1 + n*3%(len(payload)-1)
				stamp(payload[:n], ts)
				b.PutTS(ts, m&1 != 0, payload[:n])
			default:
				k, r := b.Get(dst)
				if k > frame || (r != Frame && k != 0) {
					t.Fatalf("Get = %d, %v", k, r)
				}
				if r == Frame && !continuous(dst[:k]) {
					t.Fatalf("frame out of order: % x", dst[:k])
				}
			}
			if d := b.Delay(); d > depth {
				t.Fatalf("delay %d > depth %d", d, depth)
			}
			if tg := b.Target(); tg < 1 || tg > depth-1 {
				t.Fatalf("target %d", tg)
			}
		}
	})
}
