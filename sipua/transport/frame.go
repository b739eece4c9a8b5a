package transport

import (
	"bytes"
	"errors"
	"strconv"
)

// Framing errors on a stream (RFC 3261 section 18.3).
var (
	ErrTooBig        = errors.New("transport: message too big")
	ErrBadLength     = errors.New("transport: bad Content-Length")
	errNeedMore      = errors.New("transport: need more data")
	crlf             = []byte("\r\n")
	crlfcrlf         = []byte("\r\n\r\n")
	contentLengthHdr = []byte("content-length")
)

// frameKind is what the framer found at the start of its buffer.
type frameKind int

const (
	frameMessage frameKind = iota + 1 // a whole SIP message
	framePing                         // CRLFCRLF (RFC 5626 section 3.5.1): answer CRLF
	framePong                         // CRLF alone
)

// framer splits a byte stream into SIP messages by Content-Length and
// recognises RFC 5626 keepalives. Its buffer is fixed at max+4 bytes.
type framer struct {
	buf        []byte
	start, end int
	max        int
}

func newFramer(max int) *framer { return &framer{buf: make([]byte, max+4), max: max} }

// space is the free tail of the buffer to read into (compacting first).
func (f *framer) space() []byte {
	if f.start > 0 {
		n := copy(f.buf, f.buf[f.start:f.end])
		f.start, f.end = 0, n
	}
	return f.buf[f.end:]
}

// wrote records n bytes read into space().
func (f *framer) wrote(n int) { f.end += n }

// next takes the next frame from the buffer. msg is a view into the buffer,
// valid until the next call to space. errNeedMore: read more. ErrTooBig
// comes with the message head (start line and headers) when it is whole, so
// that the caller may answer 413; the stream cannot go on after it, nor
// after ErrBadLength.
func (f *framer) next() (kind frameKind, msg []byte, err error) {
	b := f.buf[f.start:f.end]
	// Keepalives, and CRLFs before a start line (RFC 3261 section 7.5).
	for len(b) >= 2 && b[0] == '\r' && b[1] == '\n' {
		if len(b) >= 4 && b[2] == '\r' && b[3] == '\n' {
			f.start += 4
			return framePing, nil, nil
		}
		if len(b) < 4 && (len(b) == 2 || b[2] == '\r') {
			return 0, nil, errNeedMore
		}
		f.start += 2
		return framePong, nil, nil
	}
	h := bytes.Index(b, crlfcrlf)
	if h < 0 {
		if len(b) > f.max {
			return 0, nil, ErrTooBig
		}
		return 0, nil, errNeedMore
	}
	head := b[:h+4]
	n, err := contentLength(head)
	if err != nil {
		return 0, nil, err
	}
	total := h + 4 + n
	if total > f.max {
		return 0, head, ErrTooBig
	}
	if len(b) < total {
		return 0, nil, errNeedMore
	}
	f.start += total
	return frameMessage, b[:total], nil
}

// contentLength finds Content-Length (or its compact form l) in a message
// head. None: 0 (RFC 3261 section 18.3 requires it on streams; a message
// without it is taken to have no body).
func contentLength(head []byte) (int, error) {
	lines := head
	// Skip the start line.
	if i := bytes.Index(lines, crlf); i >= 0 {
		lines = lines[i+2:]
	}
	for len(lines) > 0 {
		i := bytes.Index(lines, crlf)
		if i < 0 {
			i = len(lines)
		}
		line := lines[:i]
		lines = lines[min(i+2, len(lines)):]
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := bytes.TrimRight(line[:colon], " \t")
		if !bytes.EqualFold(name, contentLengthHdr) && !(len(name) == 1 && (name[0] == 'l' || name[0] == 'L')) {
			continue
		}
		v := bytes.TrimSpace(line[colon+1:])
		if len(v) == 0 || len(v) > 9 {
			return 0, ErrBadLength
		}
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 0 || v[0] == '+' || v[0] == '-' {
			return 0, ErrBadLength
		}
		return n, nil
	}
	return 0, nil
}
