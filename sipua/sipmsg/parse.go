package sipmsg

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"
)

// initialHeaders is the header capacity a Message gets on its first parse;
// a reused Message grows it only when a message has more headers than any
// before it.
const initialHeaders = 24

// view returns a string that shares b's memory (no copy). It is valid only
// while b is not modified.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Parse parses a whole datagram into a new Message. It copies b first, so the
// message and its strings stay valid whatever the caller does with b later:
// the allocating convenience. See ParseFrom for the rules it applies and for
// the zero-allocation path.
func Parse(b []byte) (*Message, error) {
	own := make([]byte, len(b))
	copy(own, b)
	p := &struct {
		m Message
		k kept
	}{}
	m := &p.m
	m.kept = &p.k // one allocation for both
	if err := m.ParseFrom(own); err != nil {
		return nil, err
	}
	return m, nil
}

// ParseFrom parses a whole datagram into m, replacing what m held, without
// allocating in steady state: m's header slice is reused (grown only when a
// message has more headers than m has ever held), and every string in m
// (Method, RequestURI, Reason, header names of unknown headers, header
// values) and Body are views into b, not copies. Known header names,
// compact forms included, are the package's constant canonical spellings.
//
// Buffer ownership: m is valid only while the caller keeps b unchanged and
// does not parse into m again; to keep a message (or any string taken from
// it, such as a Call-ID used as a map key) beyond that, Clone it (Clone copies
// into memory of its own) or copy the strings. ParseFrom may rewrite b: folded
// header lines are unfolded in place, inside the header part.
//
// Rules: leading CRLFs are skipped; Content-Length is honoured (a datagram
// longer than it is truncated; a shorter one is an error); the mandatory
// headers Via, From, To, Call-ID and CSeq must be present, the single-valued
// ones once; the start line, CSeq, and the syntax of Via, From, To, Contact,
// Route and Record-Route values are checked (RFC 4475 section 3.1.2). On
// error m holds what was parsed: for a request (m.IsRequest) whose start
// line or headers are malformed, its method and header lines, from which a
// UAS builds the response ResponseFor names (NewResponse copies what it can;
// Clone or copy before keeping it). A response that fails is dropped.
func (m *Message) ParseFrom(b []byte) error {
	hs := m.Headers[:0]
	if cap(hs) == 0 {
		hs = make([]Header, 0, initialHeaders)
	}
	k := m.kept
	if k == nil {
		k = new(kept) // like the header slice: once per reused Message
	} else {
		*k = kept{}
	}
	*m = Message{Headers: hs, kept: k}
	i := 0
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	b = b[i:]
	if len(b) == 0 {
		return malformed("empty message")
	}
	// One pass over the lines finds the blank line that ends the header
	// part: "\n\n", or "\r\n\r\n" (the CRLF of the line before and an
	// empty CRLF line); a datagram without one is accepted when it ends in
	// a line end.
	line, rest, crlf, ok := nextLine(b)
	if !ok {
		return malformed("no end of headers")
	}
	line = trimLast(line, rest, crlf)
	startErr := m.parseStartLine(view(line))
	if startErr != nil && !m.IsRequest() {
		return startErr
	}
	// A request with a bad start line still gets its headers parsed, so
	// that the UAS can build its 400 or 505 from them.
	if len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		return malformed("continuation line without header")
	}
	var body []byte
	folded := false
	for {
		if len(rest) == 0 {
			break // no blank line (or the unfolded header part is done)
		}
		if !folded {
			if rest[0] == '\n' {
				body = rest[1:]
				break
			}
			if crlf && len(rest) > 1 && rest[0] == '\r' && rest[1] == '\n' {
				body = rest[2:]
				break
			}
		}
		var next []byte
		line, next, crlf, ok = nextLine(rest)
		if !ok && !folded {
			return malformed("no end of headers")
		}
		if !folded {
			line = trimLast(line, next, crlf)
		}
		if !folded && len(next) > 0 && (next[0] == ' ' || next[0] == '\t') {
			// The first folded line: find the end of the header part, unfold
			// it in place (once) and go on over the unfolded lines.
			folded = true
			headEnd, bodyStart, found := findHeadEnd(rest)
			if !found {
				return malformed("no end of headers")
			}
			body = rest[bodyStart:]
			rest = rest[:unfold(rest[:headEnd])]
			line, next, _, _ = nextLine(rest)
		}
		rest = next
		if len(line) == 0 {
			continue
		}
		colon, name, ok := headerName(line)
		if colon <= 0 {
			return malformed("header line without colon: %.40q", line)
		}
		if !ok {
			return malformed("bad header name %.40q", line[:colon])
		}
		m.Headers = append(m.Headers, Header{Name: canonicalBytes(name), Value: view(trimWS(line[colon+1:]))})
	}
	if startErr != nil {
		return startErr
	}
	cl, ok, err := m.check()
	if err != nil {
		return err
	}
	if ok {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return malformed("bad Content-Length %.20q", cl)
		}
		if n > len(body) {
			return malformed("Content-Length %d exceeds the %d bytes received", n, len(body))
		}
		body = body[:n]
	}
	if len(body) > 0 {
		m.Body = body[:len(body):len(body)]
	}
	return nil
}

// findHeadEnd finds the blank line ending the header part: head is
// b[:headEnd], the body starts at bodyStart. A datagram without a blank line
// is accepted when it ends in a line end.
func findHeadEnd(b []byte) (headEnd, bodyStart int, ok bool) {
	if i := bytes.Index(b, crlfcrlf); i >= 0 {
		if j := bytes.Index(b[:i], lflf); j >= 0 {
			return j, j + 2, true
		}
		return i, i + 4, true
	}
	if i := bytes.Index(b, lflf); i >= 0 {
		return i, i + 2, true
	}
	if len(b) > 0 && b[len(b)-1] == '\n' {
		n := len(b)
		for n > 0 && (b[n-1] == '\r' || b[n-1] == '\n') {
			n--
		}
		return n, len(b), true
	}
	return 0, 0, false
}

var (
	crlfcrlf = []byte("\r\n\r\n")
	lflf     = []byte("\n\n")
)

// cutLine returns the first line of b (without its LF and one CR before it)
// and the rest after the LF.
func cutLine(b []byte) (line, rest []byte) {
	line, rest, _, _ = nextLine(b)
	return line, rest
}

// nextLine returns the first line of b without its LF and one CR before it,
// the rest after the LF, whether the line ended in CRLF, and whether it
// ended in LF at all (else line is all of b).
func nextLine(b []byte) (line, rest []byte, crlf, lf bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		line = b
	} else {
		line, rest, lf = b[:i], b[i+1:], true
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line, crlf = line[:n-1], true
	}
	return line, rest, crlf, lf
}

// trimLast trims the line that ends the header part, as cutting the header
// part before the first CRLF CRLF (or LF LF, or the line ends closing a
// datagram without a blank line) and then one CR off each line does.
func trimLast(line, next []byte, crlf bool) []byte {
	switch {
	case len(next) == 0:
		return bytes.TrimRight(line, "\r")
	case crlf && len(next) > 1 && next[0] == '\r' && next[1] == '\n':
		if n := len(line); n > 0 && line[n-1] == '\r' {
			return line[:n-1]
		}
	}
	return line
}

// unfold joins continuation lines (RFC 3261 section 7.3.1) in place: a line
// end followed by SP or HT becomes one SP, whitespace around it dropped. It
// returns the new length; the result is never longer than b.
func unfold(b []byte) int {
	w := 0
	for r := 0; r < len(b); {
		c := b[r]
		if c == '\n' && r+1 < len(b) && (b[r+1] == ' ' || b[r+1] == '\t') {
			if r > 0 && b[r-1] == '\r' && w > 0 && b[w-1] == '\r' {
				w--
			}
			for w > 0 && (b[w-1] == ' ' || b[w-1] == '\t') {
				w--
			}
			b[w] = ' '
			w++
			r++
			for r < len(b) && (b[r] == ' ' || b[r] == '\t') {
				r++
			}
			continue
		}
		b[w] = c
		w++
		r++
	}
	return w
}

// headerName finds a header line's colon and the name before it, with the
// spaces and tabs before the colon trimmed, in one pass over the name (a
// scan each for ':', ' ' and '\t' cost more than its few bytes): colon is
// -1 without one; ok is false when the name is empty or has a space or tab
// inside it.
func headerName(line []byte) (colon int, name []byte, ok bool) {
	ws, inner := -1, false
	for i, c := range line {
		switch c {
		case ':':
			end := i
			if ws >= 0 && !inner {
				end = ws
			}
			return i, line[:end], end > 0 && !inner
		case ' ', '\t':
			if ws < 0 {
				ws = i
			}
		default:
			if ws >= 0 {
				inner = true
			}
		}
	}
	return -1, nil, false
}

func trimRightWS(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func trimWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return trimRightWS(b)
}

func (m *Message) parseStartLine(l string) error {
	if strings.HasPrefix(l, "SIP/") {
		// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
		if len(l) >= 11 && l[:8] == "SIP/2.0 " && '1' <= l[8] && l[8] <= '6' && isDigit(l[9]) && isDigit(l[10]) &&
			(len(l) == 11 || l[11] == ' ') {
			// The usual one, read at once: what the steps below read of it.
			reason := ""
			if len(l) > 11 {
				reason = l[12:]
			}
			m.StatusCode, m.Reason = int(l[8]-'0')*100+int(l[9]-'0')*10+int(l[10]-'0'), reason
			return nil
		}
		ver, rest, ok := cutByte(l, ' ')
		if !ok {
			return malformed("bad status line %.60q", l)
		}
		if ver != "SIP/2.0" {
			return versionError(ver)
		}
		code, reason, _ := cutByte(rest, ' ')
		if len(code) != 3 {
			return malformed("bad status code %.20q", code)
		}
		n, err := strconv.Atoi(code)
		if err != nil || n < 100 || n > 699 {
			return malformed("bad status code %.20q", code)
		}
		m.StatusCode, m.Reason = n, reason
		return nil
	}
	// Request-Line = Method SP Request-URI SP SIP-Version: exactly two SP.
	method, rest, ok1 := cutByte(l, ' ')
	if isToken(method) {
		m.Method = method // kept when the rest is bad: the request gets a 400
	}
	uri, ver, ok2 := cutByte(rest, ' ')
	if !ok1 || !ok2 || strings.IndexByte(ver, ' ') >= 0 {
		return malformed("bad request line %.60q", l)
	}
	if ver != "SIP/2.0" {
		if strings.HasPrefix(ver, "SIP/") && len(ver) > 4 {
			return versionError(ver)
		}
		return malformed("bad request line %.60q", l)
	}
	if !isToken(method) {
		return malformed("bad method %.20q", method)
	}
	if err := checkRequestURI(uri); err != nil {
		return err
	}
	m.Method, m.RequestURI = method, uri
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

var badRequestURIChar = byteSet("<>\t")

// checkRequestURI checks what RFC 4475 section 3.1.2 expects a parser to
// catch in a Request-URI: <> around it (3.1.2.7), whitespace in it (3.1.2.8),
// and escaped headers in a SIP URI (3.1.2.11).
func checkRequestURI(uri string) error {
	if uri == "" || strings.IndexByte(uri, ':') < 0 || hasAny(uri, &badRequestURIChar) {
		return malformed("bad Request-URI %.60q", uri)
	}
	scheme, rest, _ := cutByte(uri, ':')
	if strings.EqualFold(scheme, "sip") || strings.EqualFold(scheme, "sips") {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			rest = rest[at+1:]
		}
		if strings.IndexByte(rest, '?') >= 0 {
			return malformed("headers in Request-URI %.60q", uri)
		}
	}
	return nil
}

// check validates the headers: mandatory ones present, single-valued ones
// once, CSeq well-formed and matching the method, and the syntax of the
// address and Via headers. It returns the Content-Length value, if there
// is one (at most one passes). It does not allocate unless it fails.
func (m *Message) check() (contentLength string, hasCL bool, err error) {
	var nFrom, nTo, nCallID, nCSeq, nCL, nCT, nMF int
	var nVia, nContact int
	var via, from, to, callID, cseq string // first headers' values; "" = missing
	var cl string
	for i := range m.Headers {
		h := &m.Headers[i]
		var err error
		switch h.Name {
		case "Via":
			if nVia++; nVia == 1 {
				via = h.Value
				err = m.keepVia(h.Value)
			} else {
				err = checkList(h.Value, checkVia)
			}
		case "From":
			if nFrom++; nFrom == 1 {
				from = h.Value
				err = keepAddr(h.Value, h.Value, &m.kept.from, &m.kept.fromAddr, &m.kept.fromTag)
			} else {
				err = checkNameAddr(h.Value)
			}
		case "To":
			if nTo++; nTo == 1 {
				to = h.Value
				err = keepAddr(h.Value, h.Value, &m.kept.to, &m.kept.toAddr, &m.kept.toTag)
			} else {
				err = checkNameAddr(h.Value)
			}
		case "Contact":
			if strings.TrimSpace(h.Value) == "*" {
				break
			}
			if nContact++; nContact == 1 && h.Value != "" {
				elem, rest := nextElem(h.Value)
				if err = keepAddr(elem, h.Value, &m.kept.contact, &m.kept.contactAddr, nil); err == nil {
					err = checkList(rest, checkNameAddr)
				}
			} else {
				err = checkList(h.Value, checkNameAddr)
			}
		case "Route", "Record-Route":
			err = checkList(h.Value, checkNameAddr)
		case "Call-ID":
			nCallID++
			if nCallID == 1 {
				callID = h.Value
			}
		case "CSeq":
			nCSeq++
			if nCSeq == 1 {
				cseq = h.Value
			}
		case "Content-Length":
			if nCL++; nCL == 1 {
				cl = h.Value
			}
		case "Content-Type":
			nCT++
		case "Max-Forwards":
			nMF++
		}
		if err != nil {
			return "", false, malformedErr(h.Name, err)
		}
	}
	if via == "" || from == "" || to == "" || callID == "" || cseq == "" {
		for i, v := range [...]string{via, from, to, callID, cseq} {
			if v == "" {
				return "", false, malformed("missing %s", mandatory[i])
			}
		}
	}
	if nFrom > 1 || nTo > 1 || nCallID > 1 || nCSeq > 1 || nCL > 1 || nCT > 1 || nMF > 1 {
		for _, c := range [...]struct {
			n    int
			name string
		}{{nFrom, "From"}, {nTo, "To"}, {nCallID, "Call-ID"}, {nCSeq, "CSeq"},
			{nCL, "Content-Length"}, {nCT, "Content-Type"}, {nMF, "Max-Forwards"}} {
			if c.n > 1 {
				return "", false, malformed("%s more than once", c.name)
			}
		}
	}
	seq, method, err := parseCSeq(cseq)
	if err != nil {
		return "", false, malformedErr("CSeq", err)
	}
	m.kept.cseq, m.kept.seq, m.kept.method = cseq, seq, method
	if m.IsRequest() && method != m.Method {
		return "", false, malformed("CSeq method %q does not match %q", method, m.Method)
	}
	return cl, nCL == 1, nil
}

var mandatory = [...]string{"Via", "From", "To", "Call-ID", "CSeq"}

// checkList calls check on each element of a comma-separated header value;
// empty elements are an error (RFC 4475 section 3.1.2.1).
func checkList(v string, check func(string) error) error {
	for len(v) > 0 {
		var elem string
		elem, v = nextElem(v)
		if err := check(elem); err != nil {
			return err
		}
	}
	return nil
}

// nextElem returns the first element of a comma list (trimmed; not split
// inside quotes or <>) and the rest after its comma. A list ending in a
// comma yields a last, empty element.
func nextElem(v string) (elem, rest string) {
	if strings.IndexByte(v, ',') < 0 {
		return strings.TrimSpace(v), ""
	}
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			if depth > 0 {
				depth--
			}
		case c == ',' && depth == 0:
			rest = v[i+1:]
			if rest == "" {
				rest = " " // a trailing comma: one more, empty element
			}
			return strings.TrimSpace(v[:i]), rest
		}
	}
	return strings.TrimSpace(v), ""
}

// canonicalBytes is CanonicalName over bytes: the constant canonical
// spelling for known names and compact forms, else a view of name.
func canonicalBytes(name []byte) string {
	if len(name) == 1 {
		if full := compactName(name[0]); full != "" {
			return full
		}
	}
	if s := exactName(view(name)); s != "" {
		return s
	}
	if len(name) <= maxKnownName {
		var lower [maxKnownName]byte
		for i, c := range name {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		if c, ok := canonical[string(lower[:len(name)])]; ok {
			return c
		}
	}
	return view(name)
}
