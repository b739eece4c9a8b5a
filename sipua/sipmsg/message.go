package sipmsg

import (
	"fmt"
	"iter"
	"math/bits"
	"strconv"
	"strings"
)

// Message is one SIP request or response.
type Message struct {
	Method     string // requests: "INVITE", ...; "" for responses
	RequestURI string // requests
	StatusCode int    // responses
	Reason     string // responses
	// Headers in the order received; names in full canonical form (compact
	// forms expanded).
	Headers []Header
	Body    []byte

	kept *kept // what ParseFrom scanned, for the views (view.go)
}

// Header is one header line: its name and its (unfolded, trimmed) value.
type Header struct{ Name, Value string }

// trimmed says strings.TrimSpace would leave s as it is, by its two ends
// (a printable ASCII byte, '!' to '~', is never trimmed): the parse path's
// usual case, told without a call (trimmed inlines, TrimSpace does not).
func trimmed(s string) bool { return s != "" && printable[s[0]] && printable[s[len(s)-1]] }

// printable is '!' to '~'.
var printable = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = true
	}
	return t
}()

// cutByte is strings.Cut with a one-byte separator, found by IndexByte
// directly (strings.Cut goes through Index for any separator).
func cutByte(s string, c byte) (before, after string, found bool) {
	if i := strings.IndexByte(s, c); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}

// Byte classes, as tables: a lookup per byte on the parse path.
var (
	tokenChar   = byteSet("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")
	badHostChar = func() (t [256]bool) { // the set, controls, SP, DEL and non-ASCII
		t = byteSet("<>\"@,;?/\\")
		for c := range t {
			t[c] = t[c] || c <= ' ' || c >= 0x7f
		}
		return t
	}()
	wsChar = byteSet(" \t")
)

func byteSet(chars string) (t [256]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return t
}

// The word-at-a-time scans test eight bytes at once, for the runs of
// plain bytes that header values mostly are.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// word is s[i:i+8] as a little-endian word (one load where the compiler
// combines them).
func word(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// zeroBytes sets the high bit of x's zero bytes: exactly for the lowest
// one (a byte above a zero one may be flagged too), none when x has none.
func zeroBytes(x uint64) uint64 { return (x - lowBits) & ^x & highBits }

// indexByte2 is the index of the first a or b in s, or -1: one pass for
// two bytes, where two IndexByte calls cost more on a short value.
func indexByte2(s string, a, b byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := word(s, i)
		if z := zeroBytes(x^(lowBits*uint64(a))) | zeroBytes(x^(lowBits*uint64(b))); z != 0 {
			return i + bits.TrailingZeros64(z)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == a || c == b {
			return i
		}
	}
	return -1
}

// hasAny reports whether s holds a byte of set.
func hasAny(s string, set *[256]bool) bool {
	for i := 0; i < len(s); i++ {
		if set[s[i]] {
			return true
		}
	}
	return false
}

// IsRequest reports whether m is a request.
func (m *Message) IsRequest() bool { return m.Method != "" }

func (m *Message) count(name string) int {
	n := 0
	for _, h := range m.Headers {
		if h.Name == name {
			n++
		}
	}
	return n
}

// lookup returns the whole value of the first header named canon.
func (m *Message) lookup(canon string) (string, bool) {
	for _, h := range m.Headers {
		if len(h.Name) == len(canon) && (h.Name == canon || strings.EqualFold(h.Name, canon)) {
			return h.Value, true
		}
	}
	return "", false
}

// Get returns the first value of the header (name case-insensitive, compact or
// full), "" if absent. For comma-list headers (Via, Contact, Route, ...) it
// is the first element of the list.
func (m *Message) Get(name string) string {
	canon := CanonicalName(name)
	v, ok := m.lookup(canon)
	if !ok {
		return ""
	}
	if isList(canon) {
		for v != "" {
			var e string
			if e, v = nextElem(v); e != "" {
				return e
			}
		}
		return ""
	}
	return v
}

// GetAll returns every value of the header in order; comma-list headers
// (Via, Route, Record-Route, Contact, ...) are split into their elements.
func (m *Message) GetAll(name string) []string {
	var out []string
	for v := range m.Values(name) {
		out = append(out, v)
	}
	return out
}

// Values yields what GetAll returns, one value at a time, without
// allocating: for a look at a header (an option tag in Supported, any
// Allow) on a path that must not allocate.
func (m *Message) Values(name string) iter.Seq[string] {
	return func(yield func(string) bool) { m.values(name, yield) }
}

// values is Values' loop: small Values inlines, so neither it nor the
// caller's loop body escapes.
func (m *Message) values(name string, yield func(string) bool) {
	canon := CanonicalName(name)
	list := isList(canon)
	for _, h := range m.Headers {
		if !strings.EqualFold(h.Name, canon) {
			continue
		}
		if !list {
			if !yield(h.Value) {
				return
			}
			continue
		}
		for v := h.Value; v != ""; {
			var e string
			if e, v = nextElem(v); e != "" && !yield(e) {
				return
			}
		}
	}
}

// Has reports whether the message has a value of the header (a list
// header an element): len(m.GetAll(name)) > 0, without allocating.
func (m *Message) Has(name string) bool {
	for range m.Values(name) {
		return true
	}
	return false
}

// Set replaces every header named name with one header of that value, at the
// position of the first one (or at the end).
func (m *Message) Set(name, value string) {
	canon := CanonicalName(name)
	for i, h := range m.Headers {
		if strings.EqualFold(h.Name, canon) {
			m.Headers[i] = Header{canon, value}
			rest := m.Headers[i+1:]
			m.Headers = m.Headers[:i+1]
			for _, r := range rest {
				if !strings.EqualFold(r.Name, canon) {
					m.Headers = append(m.Headers, r)
				}
			}
			return
		}
	}
	m.Headers = append(m.Headers, Header{canon, value})
}

// Add appends a header.
func (m *Message) Add(name, value string) {
	m.Headers = append(m.Headers, Header{CanonicalName(name), value})
}

// Prepend inserts a header before the first header of that name, or at the
// top when there is none (how proxies add Via and Record-Route).
func (m *Message) Prepend(name, value string) {
	canon := CanonicalName(name)
	at := 0
	for i, h := range m.Headers {
		if strings.EqualFold(h.Name, canon) {
			at = i
			break
		}
	}
	m.Headers = append(m.Headers, Header{})
	copy(m.Headers[at+1:], m.Headers[at:])
	m.Headers[at] = Header{canon, value}
}

// Del removes every header named name.
func (m *Message) Del(name string) {
	canon := CanonicalName(name)
	out := m.Headers[:0]
	for _, h := range m.Headers {
		if !strings.EqualFold(h.Name, canon) {
			out = append(out, h)
		}
	}
	m.Headers = out
}

// RemoveFirst removes the first value of the header: the first element of a
// comma list, or the whole first header line (how proxies pop Via and Route).
func (m *Message) RemoveFirst(name string) {
	canon := CanonicalName(name)
	for i, h := range m.Headers {
		if !strings.EqualFold(h.Name, canon) {
			continue
		}
		if isList(canon) {
			if parts := SplitList(h.Value); len(parts) > 1 {
				m.Headers[i].Value = strings.Join(parts[1:], ", ")
				return
			}
		}
		m.Headers = append(m.Headers[:i], m.Headers[i+1:]...)
		return
	}
}

// CSeq parses the CSeq header (RFC 3261 section 20.16).
func (m *Message) CSeq() (seq uint32, method string, err error) {
	v, _ := m.lookup("CSeq") // what Get("CSeq") returns: not a list
	if k := m.kept; k != nil && same(v, k.cseq) {
		return k.seq, k.method, nil
	}
	return parseCSeq(v)
}

func parseCSeq(v string) (seq uint32, method string, err error) {
	num, meth, ok := cutByte(strings.TrimSpace(v), ' ')
	meth = strings.TrimSpace(meth)
	if !ok || !isToken(meth) {
		return 0, "", fmt.Errorf("sipmsg: bad CSeq %.40q", v)
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, "", fmt.Errorf("sipmsg: bad CSeq number %.40q", num)
	}
	return uint32(n), meth, nil
}

// AppendTo appends the wire form of m to dst and returns it; it does not
// allocate when dst has room (cap(dst)-len(dst) >= the message's size). Content-Length
// is always written from len(Body): in place of an existing one, else last.
func (m *Message) AppendTo(dst []byte) []byte {
	if m.IsRequest() {
		dst = append(dst, m.Method...)
		dst = append(dst, ' ')
		dst = append(dst, m.RequestURI...)
		dst = append(dst, " SIP/2.0\r\n"...)
	} else {
		dst = append(dst, "SIP/2.0 "...)
		dst = strconv.AppendInt(dst, int64(m.StatusCode), 10)
		dst = append(dst, ' ')
		dst = append(dst, m.Reason...)
		dst = append(dst, "\r\n"...)
	}
	wroteCL := false
	for _, h := range m.Headers {
		if h.Name == "Content-Length" {
			if wroteCL {
				continue
			}
			wroteCL = true
			dst = append(dst, "Content-Length: "...)
			dst = strconv.AppendInt(dst, int64(len(m.Body)), 10)
			dst = append(dst, "\r\n"...)
			continue
		}
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.Value...)
		dst = append(dst, "\r\n"...)
	}
	if !wroteCL {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(m.Body)), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, m.Body...)
}

// String returns the wire form of m.
func (m *Message) String() string { return string(m.AppendTo(nil)) }

// Clone returns a deep copy of m that shares no memory with it: its strings
// and body are copied into one buffer of its own (one allocation besides the
// Message and its headers). Clone a message from ParseFrom to keep it beyond
// the parse buffer's reuse.
func (m *Message) Clone() *Message {
	n := len(m.Method) + len(m.RequestURI) + len(m.Reason) + len(m.Body)
	for _, h := range m.Headers {
		n += len(h.Name) + len(h.Value)
	}
	buf := make([]byte, 0, n)
	str := func(s string) string {
		if s == "" {
			return ""
		}
		start := len(buf)
		buf = append(buf, s...)
		return view(buf[start:len(buf):len(buf)])
	}
	c := &Message{Method: str(m.Method), RequestURI: str(m.RequestURI), StatusCode: m.StatusCode, Reason: str(m.Reason)}
	if m.Headers != nil {
		c.Headers = make([]Header, len(m.Headers))
		for i, h := range m.Headers {
			name := h.Name
			if k := exactName(name); k != "" {
				name = k // a constant: nothing to copy
			} else {
				name = str(name)
			}
			c.Headers[i] = Header{Name: name, Value: str(h.Value)}
		}
	}
	if m.Body != nil {
		start := len(buf)
		buf = append(buf, m.Body...)
		c.Body = buf[start:len(buf):len(buf)]
	}
	return c
}

// NewRequest returns a request with only its start line set.
func NewRequest(method, requestURI string) *Message {
	return &Message{Method: method, RequestURI: requestURI}
}

// respRoom is the room NewResponse leaves for the headers a UA adds.
const respRoom = 10

// dialogCreating are the methods whose 1xx/2xx responses create a dialog and
// so carry the request's Record-Route (RFC 3261 section 12.1.1).
var dialogCreating = map[string]bool{"INVITE": true, "SUBSCRIBE": true, "REFER": true, "NOTIFY": true}

// NewResponse builds a response to req (RFC 3261 section 8.2.6.2): all Via
// values, From, To, Call-ID and CSeq are copied, and Record-Route for 101-299
// responses to dialog-creating requests. It adds nothing else (no To tag).
// The header strings are shared with req: when req came from ParseFrom, the
// response is valid only as long as req's buffer (Clone it to keep it).
func NewResponse(req *Message, code int, reason string) *Message {
	if reason == "" {
		reason = ReasonPhrase(code)
	}
	rr := code > 100 && code < 300 && dialogCreating[req.Method]
	n := 0
	for _, h := range req.Headers {
		switch h.Name {
		case "Via", "From", "To", "Call-ID", "CSeq":
			n++
		case "Record-Route":
			if rr {
				n++
			}
		}
	}
	// Room for what a UA adds (Contact, Allow, Supported, Server, the
	// body's headers, ...): the headers are one allocation.
	r := &Message{StatusCode: code, Reason: reason, Headers: make([]Header, 0, n+respRoom)}
	for _, h := range req.Headers {
		switch h.Name {
		case "Via", "From", "To", "Call-ID", "CSeq":
			r.Headers = append(r.Headers, h)
		case "Record-Route":
			if rr {
				r.Headers = append(r.Headers, h)
			}
		}
	}
	return r
}

// SplitList splits a comma-separated header value into its elements, not
// splitting inside quoted strings or <...>; elements are trimmed and empty
// ones dropped. It is nextElem, the parser's allocation-free scanner, over
// the whole value.
func SplitList(v string) []string {
	var out []string
	for v != "" {
		var e string
		e, v = nextElem(v)
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}
