package diag

import (
	"encoding/binary"
	"io"
	"sync"
)

// Ring keeps the most recent records (log lines, SIP messages) in one
// buffer of fixed size: each Write is one record, copied in; when the
// buffer is full the oldest records are dropped to make room. Its methods
// are safe for concurrent use; Write allocates nothing.
//
// A record is stored as a 4-byte length and its bytes, at positions that
// count every byte ever written (head, tail), taken modulo the buffer's
// size: a reader that holds a position knows whether a writer has since
// overwritten it (the position is below tail).
type Ring struct {
	mu      sync.Mutex
	buf     []byte
	head    uint64 // where the next record starts
	tail    uint64 // where the oldest record kept starts
	records int    // records kept
	dropped uint64 // records overwritten since the start
}

const recHeader = 4

// MinRingSize is the smallest ring NewRing makes.
const MinRingSize = 256

// NewRing returns a ring of size bytes (at least MinRingSize); a record
// longer than size less its 4-byte header keeps only its first bytes.
func NewRing(size int) *Ring {
	return &Ring{buf: make([]byte, max(size, MinRingSize))}
}

// Write stores p as one record (truncated to what the ring can hold) and
// always reports len(p) written: a ring never refuses a record.
func (r *Ring) Write(p []byte) (int, error) {
	n := len(p)
	if max := len(r.buf) - recHeader; len(p) > max {
		p = p[:max]
	}
	need := uint64(recHeader + len(p))
	size := uint64(len(r.buf))
	r.mu.Lock()
	for r.head+need-r.tail > size {
		r.tail += recHeader + uint64(r.lenAt(r.tail))
		r.records--
		r.dropped++
	}
	var h [recHeader]byte
	binary.LittleEndian.PutUint32(h[:], uint32(len(p)))
	r.put(r.head, h[:])
	r.put(r.head+recHeader, p)
	r.head += need
	r.records++
	r.mu.Unlock()
	return n, nil
}

// put copies b into the buffer at position pos (wrapping at the end).
func (r *Ring) put(pos uint64, b []byte) {
	i := int(pos % uint64(len(r.buf)))
	n := copy(r.buf[i:], b)
	copy(r.buf, b[n:])
}

// get copies len(b) bytes from position pos into b.
func (r *Ring) get(pos uint64, b []byte) {
	i := int(pos % uint64(len(r.buf)))
	n := copy(b, r.buf[i:])
	copy(b[n:], r.buf)
}

func (r *Ring) lenAt(pos uint64) uint32 {
	var h [recHeader]byte
	r.get(pos, h[:])
	return binary.LittleEndian.Uint32(h[:])
}

// Stats are a ring's counts.
type Stats struct {
	Records int    // records kept now
	Bytes   int    // their bytes, headers included
	Dropped uint64 // records overwritten by newer ones since the start
	Size    int    // the ring's size
}

// Stats reports what the ring holds.
func (r *Ring) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{Records: r.records, Bytes: int(r.head - r.tail), Dropped: r.dropped, Size: len(r.buf)}
}

// Reset drops every record.
func (r *Ring) Reset() {
	r.mu.Lock()
	r.tail, r.records = r.head, 0
	r.mu.Unlock()
}

// chunkSize bounds what WriteTo copies under the lock at a time.
const chunkSize = 2048

// lostMark is written where records were overwritten while WriteTo read them.
const lostMark = "\n[... overwritten while being read ...]\n"

// WriteTo writes the records the ring holds, oldest first, one after the
// other as they were written (log lines end in their newline, trace
// records carry their own separator). It copies at most 2 KiB at a time
// under the lock and writes it to w outside the lock, so a slow w never
// holds up Write; records written meanwhile are not included, and where
// writers overwrote records before they were read, a line says so.
func (r *Ring) WriteTo(w io.Writer) (int64, error) {
	var chunk [chunkSize]byte
	var total int64
	r.mu.Lock()
	pos, end := r.tail, r.head
	r.mu.Unlock()
	rem := 0 // bytes of the current record still to copy
	for {
		r.mu.Lock()
		lapped := pos < r.tail
		if lapped {
			pos, rem = r.tail, 0
		}
		if pos >= end {
			r.mu.Unlock()
			return total, nil
		}
		if rem == 0 {
			rem = int(r.lenAt(pos))
			pos += recHeader
		}
		n := min(rem, len(chunk))
		r.get(pos, chunk[:n])
		r.mu.Unlock()
		if lapped {
			m, err := io.WriteString(w, lostMark)
			total += int64(m)
			if err != nil {
				return total, err
			}
		}
		m, err := w.Write(chunk[:n])
		total += int64(m)
		if err != nil {
			return total, err
		}
		pos += uint64(n)
		rem -= n
	}
}
