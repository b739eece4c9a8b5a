package panel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Shared audio (panel/4, panel.md "Shared audio"): a client on the same
// machine as a sim phone (a unix: panel) can take the audio stream through
// a file both map instead of the audio socket, as a codec chip's DMA ring
// is shared by the chip and its driver: each frame the phone copies the
// earpiece into one ring and takes the microphone from the other, and no
// system call, no wake-up of either process, carries a frame.
//
// The file, made by the client (CreateShared) and mapped by both
// (MapShared):
//
//	0    magic "dpanel4\n"
//	8    uint32 ring size in bytes, a power of two (SharedRing)
//	64   uint64 earpiece written, bytes (the phone's)
//	128  uint64 earpiece read, bytes (the client's)
//	192  uint64 microphone written, bytes (the client's)
//	256  uint64 microphone read, bytes (the phone's)
//	512  the earpiece ring, then the microphone ring
//
// The counts run on (a ring position is the count modulo the size), each
// on its own cache line, read and written atomically; the samples are
// s16le at the audio stream's rate, as on the socket. A side writes only
// what the other has left room for: a full earpiece ring (a client that
// does not read) drops the phone's frames, as a socket that takes nothing
// does, and a full microphone ring drops the client's.
const (
	sharedMagic  = "dpanel4\n"
	sharedHeader = 512
	offEarW      = 64
	offEarR      = 128
	offMicW      = 192
	offMicR      = 256
	offRing      = 8

	// SharedRing is each ring's size: a second at the wideband rate.
	SharedRing = 32 << 10
)

// SharedSize is the size of a shared audio file.
const SharedSize = sharedHeader + 2*SharedRing

// SharedAudio is a mapped shared audio file (either side's view).
type SharedAudio struct {
	mem   []byte
	size  uint64
	unmap func([]byte) error // nil: not mapped (a test's memory)
}

// sharedHead is a new shared audio file's header.
func sharedHead() []byte {
	h := make([]byte, sharedHeader)
	copy(h, sharedMagic)
	binary.LittleEndian.PutUint32(h[offRing:], SharedRing)
	return h
}

var errShared = errors.New("panel: shared audio: not a panel/4 audio file")

// openShared checks a shared audio file's bytes and returns its view.
func openShared(mem []byte) (*SharedAudio, error) {
	if len(mem) < sharedHeader || !bytes.Equal(mem[:len(sharedMagic)], []byte(sharedMagic)) {
		return nil, errShared
	}
	size := uint64(binary.LittleEndian.Uint32(mem[offRing:]))
	if size < 4096 || size > 1<<20 || size&(size-1) != 0 || uint64(len(mem)) != sharedHeader+2*size {
		return nil, fmt.Errorf("%w (ring size %d in %d bytes)", errShared, size, len(mem))
	}
	return &SharedAudio{mem: mem, size: size}, nil
}

func (a *SharedAudio) count(off int) *uint64 {
	return (*uint64)(unsafe.Pointer(&a.mem[off]))
}

// put copies what fits of b into the ring at base whose counts are at w
// (this side's) and r (the other's); it returns how much.
func (a *SharedAudio) put(base, w, r int, b []byte) int {
	wc, rc := atomic.LoadUint64(a.count(w)), atomic.LoadUint64(a.count(r))
	used := wc - rc
	if used > a.size {
		return 0 // the other side's count is not one: take nothing
	}
	n := min(uint64(len(b)), a.size-used)
	ring := a.mem[base : base+int(a.size)]
	at := wc % a.size
	k := copy(ring[at:], b[:n])
	copy(ring, b[k:n])
	atomic.StoreUint64(a.count(w), wc+n)
	return int(n)
}

// take copies what is waiting in the ring at base (counts: w the other
// side's, r this side's) into b; it returns how much.
func (a *SharedAudio) take(base, w, r int, b []byte) int {
	wc, rc := atomic.LoadUint64(a.count(w)), atomic.LoadUint64(a.count(r))
	avail := wc - rc
	if avail > a.size {
		// The writer ran a ring ahead (or its count is not one): what
		// is there is overwritten; start again from its count.
		atomic.StoreUint64(a.count(r), wc)
		return 0
	}
	n := min(uint64(len(b)), avail)
	ring := a.mem[base : base+int(a.size)]
	at := rc % a.size
	k := copy(b[:n], ring[at:])
	copy(b[k:n], ring)
	atomic.StoreUint64(a.count(r), rc+n)
	return int(n)
}

func (a *SharedAudio) earRing() int { return sharedHeader }
func (a *SharedAudio) micRing() int { return sharedHeader + int(a.size) }

// The phone's side.

// tryWrite puts what fits of an earpiece frame (as direct's tryWrite).
func (a *SharedAudio) tryWrite(b []byte) (int, error) {
	return a.put(a.earRing(), offEarW, offEarR, b), nil
}

// tryRead takes what the client has sent (as direct's tryRead).
func (a *SharedAudio) tryRead(b []byte) (int, error) {
	return a.take(a.micRing(), offMicW, offMicR, b), nil
}

// skipMic drops what the client has sent so far (a clock that starts takes
// the microphone from then on, panel.md).
func (a *SharedAudio) skipMic() {
	atomic.StoreUint64(a.count(offMicR), atomic.LoadUint64(a.count(offMicW)))
}

// The client's side.

// ReadEar takes the earpiece audio waiting into b; it returns how many
// bytes.
func (a *SharedAudio) ReadEar(b []byte) int {
	return a.take(a.earRing(), offEarW, offEarR, b)
}

// WriteMic puts what fits of b (microphone audio) into its ring; it returns
// how many bytes.
func (a *SharedAudio) WriteMic(b []byte) int {
	return a.put(a.micRing(), offMicW, offMicR, b)
}
