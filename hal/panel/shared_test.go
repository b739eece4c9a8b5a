package panel

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSharedRing: each ring carries bytes whole and in order across its
// end, a writer takes only the room the reader left (the rest is dropped,
// as a full socket drops a frame), and a count that is not one (a reader
// left a ring behind) starts the reader again from the writer's.
func TestSharedRing(t *testing.T) {
	mem := make([]byte, SharedSize)
	copy(mem, sharedHead())
	a, err := openShared(mem)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 3000)
	in := make([]byte, 4096)
	next, want := byte(0), byte(0)
	for round := range 40 { // 120 KB through a 32 KB ring: it wraps
		for i := range out {
			out[i] = next
			next++
		}
		if n, _ := a.tryWrite(out); n != len(out) {
			t.Fatalf("round %d: the earpiece took %d of %d with room", round, n, len(out))
		}
		got := 0
		for got < len(out) {
			n := a.ReadEar(in)
			if n == 0 {
				t.Fatalf("round %d: %d of %d bytes came", round, got, len(out))
			}
			for _, b := range in[:n] {
				if b != want {
					t.Fatalf("round %d: byte %d is %d, want %d", round, got, b, want)
				}
				want++
			}
			got += n
		}
	}
	// Full: the writer takes what fits and no more.
	big := make([]byte, SharedRing+100)
	if n := a.WriteMic(big); n != SharedRing {
		t.Fatalf("an empty microphone ring took %d, want %d", n, SharedRing)
	}
	if n := a.WriteMic(big); n != 0 {
		t.Fatalf("a full ring took %d more", n)
	}
	if n, _ := a.tryRead(in); n != len(in) {
		t.Fatalf("read %d of a full ring, want %d", n, len(in))
	}
	a.skipMic()
	if n, _ := a.tryRead(in); n != 0 {
		t.Fatalf("after skipMic %d bytes were waiting", n)
	}
	// A reader a ring behind (the client's count moved back) starts again
	// at the writer's count; a writer that sees such a count takes nothing.
	binary.LittleEndian.PutUint64(mem[offMicW:], 10*SharedRing)
	if n, _ := a.tryRead(in); n != 0 {
		t.Fatalf("a reader a ring behind took %d", n)
	}
	if r := binary.LittleEndian.Uint64(mem[offMicR:]); r != 10*SharedRing {
		t.Fatalf("the reader's count is %d, want the writer's %d", r, 10*SharedRing)
	}
	binary.LittleEndian.PutUint64(mem[offEarR:], 0)
	binary.LittleEndian.PutUint64(mem[offEarW:], 5*SharedRing)
	if n, _ := a.tryWrite(out); n != 0 {
		t.Fatalf("the phone wrote %d into a ring whose reader's count is not one", n)
	}
}

// TestMapSharedRefuses: only a shared audio file is mapped: not a missing
// path, a link, another file, or one whose header does not match its size.
func TestMapSharedRefuses(t *testing.T) {
	dir := t.TempDir()
	good, err := CreateShared(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := MapShared(good)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other")
	os.WriteFile(other, make([]byte, SharedSize), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, append(sharedHead(), make([]byte, SharedRing)...), 0o600)
	for _, p := range []string{filepath.Join(dir, "none"), link, other, short, dir, "/dev/zero"} {
		if a, err := MapShared(p); err == nil {
			a.Close()
			t.Errorf("%s was mapped", p)
		}
	}
}

// TestSharedAudio: after "audio shm PATH" from the client on the audio
// socket, Exchange's earpiece goes into the file and its microphone comes
// from it, the socket carrying nothing; "audio shm off" gives the socket
// back. A path that is no shared audio file, or a client that is no local
// socket, gets an error and the stream stays where it was.
func TestSharedAudio(t *testing.T) {
	s, sock, hooks := startServer(t)
	tick, _ := fakeClock(s)
	if err := s.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	tc := dialControl(t, sock)
	waitHook(t, hooks, "control")
	tc.send("audio shm " + filepath.Join(t.TempDir(), "none"))
	if l := tc.line(); !strings.HasPrefix(l, "error audio shm: no audio client") {
		t.Fatalf("without an audio client: %q", l)
	}
	ac := dial(t, sock+".audio")
	waitHook(t, hooks, "audio")
	tc.send("audio shm relative/path")
	if l := tc.line(); !strings.HasPrefix(l, "error usage") {
		t.Fatalf("a relative path: %q", l)
	}
	tc.send("audio shm /etc/passwd")
	if l := tc.line(); !strings.HasPrefix(l, "error audio shm: panel: shared audio: not a panel/4") {
		t.Fatalf("not a shared audio file: %q", l)
	}
	path, err := CreateShared(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := MapShared(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Microphone audio sent before the file is shared is not taken from it.
	a.WriteMic(make([]byte, 100))
	tc.send("audio shm " + path)
	tc.expect("audio shm on")

	ear, mic := make([]int16, 160), make([]int16, 160)
	micOut := make([]byte, 320)
	for k := range 5 {
		for i := range ear {
			ear[i] = int16(100*k + i)
			binary.LittleEndian.PutUint16(micOut[2*i:], uint16(int16(-100*k-i)))
		}
		if n := a.WriteMic(micOut); n != len(micOut) {
			t.Fatalf("frame %d: the microphone ring took %d", k, n)
		}
		tick <- time.Time{}
		if err := s.Exchange(ear, mic); err != nil {
			t.Fatal(err)
		}
		for i, v := range mic {
			if v != int16(-100*k-i) {
				t.Fatalf("frame %d: mic[%d] = %d, want %d", k, i, v, -100*k-i)
			}
		}
		got := make([]byte, 400)
		if n := a.ReadEar(got); n != 320 {
			t.Fatalf("frame %d: %d bytes in the earpiece ring, want 320", k, n)
		}
		for i := range ear {
			if v := int16(binary.LittleEndian.Uint16(got[2*i:])); v != ear[i] {
				t.Fatalf("frame %d: ear[%d] = %d, want %d", k, i, v, ear[i])
			}
		}
	}
	for range 110 {
		tick <- time.Time{}
	}
	drain := make([]byte, 400)
	if allocs := testing.AllocsPerRun(100, func() {
		a.WriteMic(micOut)
		if err := s.Exchange(ear, mic); err != nil {
			t.Fatal(err)
		}
		a.ReadEar(drain)
	}); allocs != 0 {
		t.Fatalf("Exchange through the file: %v allocations a frame, want 0", allocs)
	}
	// Nothing came on the socket.
	ac.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := ac.Read(make([]byte, 320)); n != 0 || err == nil {
		t.Fatalf("the socket carried %d bytes while the file was shared", n)
	}
	tc.send("audio shm off")
	tc.expect("audio shm off")
	tick <- time.Time{}
	if err := s.Exchange(ear, mic); err != nil {
		t.Fatal(err)
	}
	ac.SetReadDeadline(time.Now().Add(deadline))
	if n, err := ac.Read(make([]byte, 320)); n == 0 {
		t.Fatalf("no earpiece on the socket after audio shm off: %v", err)
	}
	if n := a.ReadEar(make([]byte, 400)); n != 0 {
		t.Fatalf("%d bytes in the file after audio shm off", n)
	}
}
