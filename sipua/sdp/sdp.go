package sdp

import (
	"strconv"
	"strings"
)

// Origin is the o= line's identity.
type Origin struct {
	User               string // "-" if empty
	SessionID, Version uint64
	// Addr is the o= line's unicast address; "" writes the session's c=
	// address (else the first m-line's).
	Addr string
}

// Codec is one payload type of an RTP m-line, with its a=rtpmap and a=fmtp.
type Codec struct {
	PT       uint8
	Name     string // "PCMU", "PCMA", "telephone-event", ...; "" = no rtpmap and not static
	Rate     int    // clock rate, Hz
	Channels int    // the rtpmap's encoding parameters (channels); 0 = not given
	Fmtp     string // a=fmtp parameters ("0-16" for telephone-event); "" = none
}

// Attr is one a= line kept as it came: a=Key:Value, or a=Key when Value is "".
type Attr struct{ Key, Value string }

// Media is one m-line (RFC 4566 section 5.14) with what belongs to it.
type Media struct {
	Type      string // "audio", "video", "image", "application", "message", ...
	Port      int    // 0: the stream is refused (RFC 3264 section 6) or disabled
	PortCount int    // m=<type> <port>/<count>: count; 0 = not given
	Proto     string // "RTP/AVP", "RTP/AVPF", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", "udptl", "TCP/MSRP", ...

	// Codecs is the format list of an RTP m-line (IsRTP(Proto)): each
	// payload type in m= order, named by its a=rtpmap or as a static type
	// (RFC 3551), with its a=fmtp.
	Codecs []Codec
	// Formats is the format list of any other m-line, as written ("t38",
	// "webrtc-datachannel", "*"). Marshal writes Codecs' payload types, or
	// Formats when there are no Codecs.
	Formats []string

	// Host is the connection address: after Parse the m-line's own c=, else
	// the session's (RFC 4566 section 5.7); Marshal writes a c= line for it
	// when it differs from the session's.
	Host      string
	Bandwidth []string // b= lines as written ("AS:64", "TIAS:64000")
	Ptime     int      // a=ptime, ms; 0 = not given
	// Direction is "sendrecv", "sendonly", "recvonly" or "inactive": after
	// Parse the m-line's own, else the session's, else "sendrecv". "" (only
	// in descriptions built by hand) means the session's.
	Direction string
	// Attrs holds every other a= line in order, opaquely, so a re-offer can
	// repeat it: a=crypto, a=rtcp, a=rtcp-fb, a=fingerprint, a=T38..., and
	// an rtpmap or fmtp of a format not on the m= line.
	Attrs []Attr
}

// Session is one session description: the session-level fields and the
// m-lines in order.
type Session struct {
	Origin    Origin
	Name      string   // s=; "-" if empty
	Host      string   // session-level c= address; "" = none (each Media has its own)
	Bandwidth []string // session-level b= lines as written
	Time      string   // t= line; "" = "0 0"
	// Direction is the session-level direction attribute ("" = none). Parse
	// also copies it into each Media without its own; Marshal writes it on
	// each m-line with a port that has none of its own (where every peer
	// looks), never at session level.
	Direction string
	Attrs     []Attr  // other session-level a= lines, in order
	Media     []Media // the m-lines, in order
}

// IsRTP reports whether an m-line proto carries RTP (its formats are
// payload types): RTP/AVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF, TCP/RTP/AVP, ...
func IsRTP(proto string) bool {
	for i := 0; i+4 <= len(proto); i++ {
		if (i == 0 || proto[i-1] == '/') && strings.EqualFold(proto[i:i+4], "RTP/") {
			return true
		}
	}
	return false
}

// HasCrypto reports whether the m-line carries SDES keys (a=crypto, RFC
// 4568). Only their presence matters here; the lines stay in Attrs.
func (m Media) HasCrypto() bool {
	for _, a := range m.Attrs {
		if a.Key == "crypto" {
			return true
		}
	}
	return false
}

// Attr returns the value of the m-line's first opaque attribute key.
func (m Media) Attr(key string) (string, bool) {
	for _, a := range m.Attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// TelephoneEvent returns the m-line's telephone-event/8000 payload, if any.
func (m Media) TelephoneEvent() (Codec, bool) {
	for _, c := range m.Codecs {
		if IsTelephoneEvent(c) && c.Rate == 8000 {
			return c, true
		}
	}
	return Codec{}, false
}

// IsTelephoneEvent reports whether c is RFC 4733 telephone-event.
func IsTelephoneEvent(c Codec) bool { return strings.EqualFold(c.Name, "telephone-event") }

// static holds the RFC 3551 static payload types a phone meets.
var static = [...]Codec{
	{PT: 0, Name: "PCMU", Rate: 8000}, {PT: 3, Name: "GSM", Rate: 8000}, {PT: 4, Name: "G723", Rate: 8000},
	{PT: 8, Name: "PCMA", Rate: 8000}, {PT: 9, Name: "G722", Rate: 8000}, {PT: 18, Name: "G729", Rate: 8000},
}

// StaticCodec returns the static codec with that name (case-insensitive).
func StaticCodec(name string) (Codec, bool) {
	for _, c := range static {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Codec{}, false
}

func staticPT(pt uint8) Codec {
	for _, c := range static {
		if c.PT == pt {
			return c
		}
	}
	return Codec{PT: pt}
}

// ParseError is a description Parse refuses: the line (from 1) and why.
type ParseError struct {
	Line int
	Text string // the line, cut to 60 bytes
	Why  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return "sdp: " + e.Why
	}
	return "sdp: line " + strconv.Itoa(e.Line) + ": " + e.Why + " " + strconv.Quote(e.Text)
}

func parseErr(n int, line, why string) error {
	if len(line) > 60 {
		line = line[:60]
	}
	return &ParseError{Line: n, Text: line, Why: why}
}

// field cuts the first field off s; fields are separated by spaces (and,
// leniently, by tabs, stray CRs or other control bytes).
func field(s string) (f, rest string) {
	i := 0
	for i < len(s) && s[i] <= ' ' {
		i++
	}
	s = s[i:]
	i = 0
	for i < len(s) && s[i] > ' ' {
		i++
	}
	return s[:i], s[i:]
}

// nextLine cuts the first line (without its LF and trailing CRs) off s.
func nextLine(s string) (ln, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		ln, rest = s, ""
	} else {
		ln, rest = s[:i], s[i+1:]
	}
	for len(ln) > 0 && ln[len(ln)-1] == '\r' {
		ln = ln[:len(ln)-1]
	}
	return ln, rest
}

func isDirection(s string) bool {
	return s == "sendrecv" || s == "sendonly" || s == "recvonly" || s == "inactive"
}

// atoi parses a decimal int of at most 9 digits (ports, rates, ptime).
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func parsePT(s string) (uint8, bool) {
	n, ok := atoi(s)
	return uint8(n), ok && n <= 127
}

// counts sizes the pools Parse allocates once per description. Pools only
// grow by append, and each m-line takes its slice of a pool when it ends,
// so a count that is short costs an allocation, never a wrong result.
type counts struct{ media, codecs, formats, attrs, bw int }

func count(s string) (c counts) {
	for s != "" {
		var ln string
		ln, s = nextLine(s)
		if len(ln) < 2 {
			continue
		}
		switch ln[0] {
		case 'a':
			// The opaque ones; a pool that proves short grows (the m-lines
			// before keep theirs).
			k, _, _ := strings.Cut(ln[2:], ":")
			if k != "rtpmap" && k != "fmtp" && k != "ptime" && !isDirection(k) {
				c.attrs++
			}
		case 'b':
			c.bw++
		case 'm':
			c.media++
			_, r := field(ln[2:])
			_, r = field(r)
			proto, r := field(r)
			n := 0
			for f, r := field(r); f != ""; f, r = field(r) {
				n++
			}
			if IsRTP(proto) {
				c.codecs += n
			} else {
				c.formats += n
			}
		}
	}
	return c
}

// Parse parses a session description (RFC 4566): every m-line, in order.
// Lines end in CRLF or LF; empty lines are skipped. It allocates a fixed
// handful of times (the text, and one pool each for the m-lines, codecs,
// attributes, formats and b= lines it has); the strings in the result
// share the text. A description it cannot read is a *ParseError, never a
// panic.
func Parse(b []byte) (Session, error) {
	text := string(b)
	n := count(text)
	var s Session
	if n.media > 0 {
		s.Media = make([]Media, 0, n.media)
	}
	var codecs []Codec
	var formats, bw []string
	var attrs []Attr
	if n.codecs > 0 {
		codecs = make([]Codec, 0, n.codecs)
	}
	if n.formats > 0 {
		formats = make([]string, 0, n.formats)
	}
	if n.attrs > 0 {
		attrs = make([]Attr, 0, n.attrs)
	}
	if n.bw > 0 {
		bw = make([]string, 0, n.bw)
	}
	mi := -1               // the m-line being read; -1 at session level
	aStart, bStart := 0, 0 // where the current level's attrs and b= lines begin in their pools
	closeLevel := func() {
		var a []Attr
		var w []string
		if len(attrs) > aStart {
			a = attrs[aStart:len(attrs):len(attrs)]
		}
		if len(bw) > bStart {
			w = bw[bStart:len(bw):len(bw)]
		}
		if mi < 0 {
			s.Attrs, s.Bandwidth = a, w
		} else {
			s.Media[mi].Attrs, s.Media[mi].Bandwidth = a, w
		}
		aStart, bStart = len(attrs), len(bw)
	}
	seenV := false
	lineNo := 0
	for rest := text; rest != ""; {
		var ln string
		ln, rest = nextLine(rest)
		lineNo++
		if ln == "" {
			continue
		}
		if len(ln) < 2 || ln[1] != '=' || ln[0] < 'a' || ln[0] > 'z' {
			return Session{}, parseErr(lineNo, ln, "bad line")
		}
		typ, val := ln[0], ln[2:]
		var m *Media // the m-line being read; nil at session level
		if mi >= 0 {
			m = &s.Media[mi]
		}
		if !seenV {
			if typ != 'v' || val != "0" {
				return Session{}, parseErr(lineNo, ln, "does not start with v=0")
			}
			seenV = true
			continue
		}
		switch typ {
		case 'v':
			return Session{}, parseErr(lineNo, ln, "second v= line")
		case 'o':
			if m != nil {
				return Session{}, parseErr(lineNo, ln, "o= inside an m-line")
			}
			user, r := field(val)
			id, r := field(r)
			ver, r := field(r)
			nt, r := field(r)
			at, r := field(r)
			addr, r := field(r)
			extra, _ := field(r)
			sid, err1 := strconv.ParseUint(id, 10, 64)
			v, err2 := strconv.ParseUint(ver, 10, 64)
			if addr == "" || extra != "" || err1 != nil || err2 != nil || nt != "IN" || (at != "IP4" && at != "IP6") {
				return Session{}, parseErr(lineNo, ln, "bad o= line")
			}
			s.Origin = Origin{User: user, SessionID: sid, Version: v, Addr: addr}
		case 's':
			if m == nil {
				s.Name = val
			}
		case 't':
			if m != nil {
				return Session{}, parseErr(lineNo, ln, "t= inside an m-line")
			}
			start, r := field(val)
			stop, r := field(r)
			extra, _ := field(r)
			if _, err := strconv.ParseUint(start, 10, 64); err != nil || extra != "" {
				return Session{}, parseErr(lineNo, ln, "bad t= line")
			}
			if _, err := strconv.ParseUint(stop, 10, 64); err != nil {
				return Session{}, parseErr(lineNo, ln, "bad t= line")
			}
			s.Time = ""
			if start != "0" || stop != "0" {
				s.Time = start + " " + stop
			}
		case 'i', 'u', 'e', 'p', 'r', 'z', 'k':
			// Read and dropped: nothing a phone acts on.
		case 'c':
			nt, r := field(val)
			at, r := field(r)
			addr, r := field(r)
			extra, _ := field(r)
			if nt != "IN" || (at != "IP4" && at != "IP6") || addr == "" || extra != "" {
				return Session{}, parseErr(lineNo, ln, "bad c= line")
			}
			host, _, _ := strings.Cut(addr, "/") // drop a multicast TTL or count
			if host == "" {
				return Session{}, parseErr(lineNo, ln, "bad c= line")
			}
			if m == nil {
				s.Host = host
			} else {
				m.Host = host
			}
		case 'b':
			if !strings.Contains(val, ":") {
				return Session{}, parseErr(lineNo, ln, "bad b= line")
			}
			bw = append(bw, val)
		case 'm':
			closeLevel()
			typS, r := field(val)
			portS, r := field(r)
			proto, r := field(r)
			if typS == "" || proto == "" {
				return Session{}, parseErr(lineNo, ln, "bad m= line")
			}
			md := Media{Type: typS, Proto: proto}
			portS, cnt, hasCnt := strings.Cut(portS, "/")
			p, ok := atoi(portS)
			if !ok || p > 65535 {
				return Session{}, parseErr(lineNo, ln, "bad port in m= line")
			}
			md.Port = p
			if hasCnt {
				if md.PortCount, ok = atoi(cnt); !ok || md.PortCount == 0 {
					return Session{}, parseErr(lineNo, ln, "bad port count in m= line")
				}
			}
			rtp := IsRTP(proto)
			start := len(codecs)
			fStart := len(formats)
			for f, r := field(r); f != ""; f, r = field(r) {
				if !rtp {
					formats = append(formats, f)
					continue
				}
				pt, ok := parsePT(f)
				if !ok {
					return Session{}, parseErr(lineNo, ln, "bad payload type in m= line")
				}
				codecs = append(codecs, staticPT(pt))
			}
			if len(codecs) > start {
				md.Codecs = codecs[start:len(codecs):len(codecs)]
			}
			if len(formats) > fStart {
				md.Formats = formats[fStart:len(formats):len(formats)]
			}
			s.Media = append(s.Media, md)
			mi = len(s.Media) - 1
		case 'a':
			key, arg, _ := strings.Cut(val, ":")
			if key == "" && arg == "" {
				continue // "a=" says nothing
			}
			if f, r := field(key); f != key || r != "" {
				return Session{}, parseErr(lineNo, ln, "bad attribute name")
			}
			if isDirection(key) && arg == "" {
				if m == nil {
					s.Direction = key
				} else {
					m.Direction = key
				}
				continue
			}
			if m == nil || len(m.Codecs) == 0 {
				attrs = append(attrs, Attr{key, arg})
				continue
			}
			switch key {
			case "rtpmap":
				ptS, enc, _ := strings.Cut(arg, " ")
				pt, ok := parsePT(ptS)
				if !ok {
					return Session{}, parseErr(lineNo, ln, "bad rtpmap")
				}
				c := codecOf(m, pt)
				if c == nil {
					attrs = append(attrs, Attr{key, arg})
					continue
				}
				name, r, _ := strings.Cut(strings.TrimSpace(enc), "/")
				rateS, chS, hasCh := strings.Cut(r, "/")
				rate, ok := atoi(rateS)
				if !ok || name == "" || rate == 0 {
					return Session{}, parseErr(lineNo, ln, "bad rtpmap")
				}
				ch := 0
				if hasCh {
					if ch, ok = atoi(chS); !ok || ch == 0 {
						return Session{}, parseErr(lineNo, ln, "bad rtpmap channels")
					}
				}
				for i := range m.Codecs { // a payload type listed twice gets it twice
					if c := &m.Codecs[i]; c.PT == pt {
						c.Name, c.Rate, c.Channels = name, rate, ch
					}
				}
			case "fmtp":
				ptS, params, _ := strings.Cut(arg, " ")
				pt, ok := parsePT(ptS)
				var c *Codec
				if ok {
					c = codecOf(m, pt)
				}
				params = strings.TrimSpace(params)
				if c == nil || params == "" {
					attrs = append(attrs, Attr{key, arg})
					continue
				}
				for i := range m.Codecs {
					if c := &m.Codecs[i]; c.PT == pt {
						c.Fmtp = params
					}
				}
			case "ptime":
				if n, ok := atoi(strings.TrimSpace(arg)); ok && n > 0 {
					m.Ptime = n
				} else {
					attrs = append(attrs, Attr{key, arg})
				}
			default:
				attrs = append(attrs, Attr{key, arg})
			}
		default:
			return Session{}, parseErr(lineNo, ln, "unknown type letter")
		}
	}
	if !seenV {
		return Session{}, &ParseError{Why: "empty description"}
	}
	closeLevel()
	for i := range s.Media {
		md := &s.Media[i]
		if md.Direction == "" {
			md.Direction = s.Direction
			if md.Direction == "" {
				md.Direction = "sendrecv"
			}
		}
		if md.Host == "" {
			md.Host = s.Host
		}
		if md.Host == "" && md.Port != 0 {
			return Session{}, &ParseError{Why: "m-line " + strconv.Itoa(i) + " (" + md.Type + ") has no connection address"}
		}
	}
	return s, nil
}

func codecOf(m *Media, pt uint8) *Codec {
	for i := range m.Codecs {
		if m.Codecs[i].PT == pt {
			return &m.Codecs[i]
		}
	}
	return nil
}

// Marshal writes the session description (CRLF line ends) into a new
// buffer (one allocation).
func (s Session) Marshal() []byte {
	return s.AppendTo(make([]byte, 0, 128+160*len(s.Media)))
}

func ipType(host string) string {
	if strings.Contains(host, ":") {
		return "IP6"
	}
	return "IP4"
}

func appendC(b []byte, host string) []byte {
	b = append(b, "c=IN "...)
	b = append(b, ipType(host)...)
	b = append(b, ' ')
	b = append(b, host...)
	return append(b, "\r\n"...)
}

func appendAttr(b []byte, a Attr) []byte {
	b = append(b, "a="...)
	b = append(b, a.Key...)
	if a.Value != "" {
		b = append(b, ':')
		b = append(b, a.Value...)
	}
	return append(b, "\r\n"...)
}

// AppendTo appends the session description (CRLF line ends) to b; it
// allocates nothing when b has room. The order is RFC 4566's: v o s c b t
// a, then each m-line with its c b a.
func (s Session) AppendTo(b []byte) []byte {
	user := s.Origin.User
	if user == "" {
		user = "-"
	}
	oaddr := s.Origin.Addr
	if oaddr == "" {
		oaddr = s.Host
	}
	for i := 0; oaddr == "" && i < len(s.Media); i++ {
		oaddr = s.Media[i].Host
	}
	if oaddr == "" {
		oaddr = "0.0.0.0"
	}
	b = append(b, "v=0\r\no="...)
	b = append(b, user...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, s.Origin.SessionID, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, s.Origin.Version, 10)
	b = append(b, " IN "...)
	b = append(b, ipType(oaddr)...)
	b = append(b, ' ')
	b = append(b, oaddr...)
	b = append(b, "\r\ns="...)
	if s.Name == "" {
		b = append(b, '-')
	} else {
		b = append(b, s.Name...)
	}
	b = append(b, "\r\n"...)
	if s.Host != "" {
		b = appendC(b, s.Host)
	}
	for _, v := range s.Bandwidth {
		b = append(b, "b="...)
		b = append(b, v...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "t="...)
	if s.Time == "" {
		b = append(b, "0 0"...)
	} else {
		b = append(b, s.Time...)
	}
	b = append(b, "\r\n"...)
	for _, a := range s.Attrs {
		b = appendAttr(b, a)
	}
	for i := range s.Media {
		b = s.Media[i].appendTo(b, &s)
	}
	return b
}

func (m *Media) appendTo(b []byte, s *Session) []byte {
	b = append(b, "m="...)
	b = append(b, m.Type...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(m.Port), 10)
	if m.PortCount > 0 {
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(m.PortCount), 10)
	}
	b = append(b, ' ')
	b = append(b, m.Proto...)
	if len(m.Codecs) > 0 {
		for _, c := range m.Codecs {
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(c.PT), 10)
		}
	} else {
		for _, f := range m.Formats {
			b = append(b, ' ')
			b = append(b, f...)
		}
	}
	b = append(b, "\r\n"...)
	if m.Host != "" && m.Host != s.Host {
		b = appendC(b, m.Host)
	}
	for _, v := range m.Bandwidth {
		b = append(b, "b="...)
		b = append(b, v...)
		b = append(b, "\r\n"...)
	}
	for _, c := range m.Codecs {
		if c.Name != "" {
			b = append(b, "a=rtpmap:"...)
			b = strconv.AppendUint(b, uint64(c.PT), 10)
			b = append(b, ' ')
			b = append(b, c.Name...)
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(c.Rate), 10)
			if c.Channels > 0 {
				b = append(b, '/')
				b = strconv.AppendInt(b, int64(c.Channels), 10)
			}
			b = append(b, "\r\n"...)
		}
		if c.Fmtp != "" {
			b = append(b, "a=fmtp:"...)
			b = strconv.AppendUint(b, uint64(c.PT), 10)
			b = append(b, ' ')
			b = append(b, c.Fmtp...)
			b = append(b, "\r\n"...)
		}
	}
	if m.Ptime > 0 {
		b = append(b, "a=ptime:"...)
		b = strconv.AppendInt(b, int64(m.Ptime), 10)
		b = append(b, "\r\n"...)
	}
	for _, a := range m.Attrs {
		b = appendAttr(b, a)
	}
	dir := m.Direction
	if dir == "" && m.Port != 0 {
		dir = s.Direction
	}
	if dir != "" {
		b = append(b, "a="...)
		b = append(b, dir...)
		b = append(b, "\r\n"...)
	}
	return b
}
