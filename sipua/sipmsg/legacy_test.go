package sipmsg

// The parser as it was before ParseFrom (allocating, line by line), kept as
// the reference for the differential fuzz target: whatever ParseFrom accepts,
// it accepts with the same fields (ParseFrom rejects more: RFC 4475 section
// 3.1.2 field syntax).

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Parse parses a whole datagram. Leading CRLFs are skipped, folded header
// lines are unfolded, Content-Length is honoured (a datagram longer than it
// is truncated; a shorter one is an error) and the mandatory headers Via,
// From, To, Call-ID and CSeq must be present, the single-valued ones once.
func legacyParse(b []byte) (*Message, error) {
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	if len(b) == 0 {
		return nil, malformed("empty message")
	}
	head, body, ok := legacySplitHead(b)
	if !ok {
		return nil, malformed("no end of headers")
	}
	lines := legacySplitLines(head)
	m := &Message{}
	if err := legacyStartLine(m, lines[0]); err != nil {
		return nil, err
	}
	// Unfold (RFC 3261 section 7.3.1): a line starting with SP or HT continues the previous.
	var cur string
	flush := func() error {
		if cur == "" {
			return nil
		}
		i := strings.IndexByte(cur, ':')
		if i <= 0 {
			return malformed("header line without colon: %.40q", cur)
		}
		name := strings.TrimRight(cur[:i], " \t")
		if name == "" || strings.ContainsAny(name, " \t") {
			return malformed("bad header name %.40q", cur[:i])
		}
		m.Headers = append(m.Headers, Header{Name: CanonicalName(name), Value: strings.Trim(cur[i+1:], " \t")})
		cur = ""
		return nil
	}
	for _, ln := range lines[1:] {
		if ln != "" && (ln[0] == ' ' || ln[0] == '\t') {
			if cur == "" {
				return nil, malformed("continuation line without header")
			}
			cur = strings.TrimRight(cur, " \t") + " " + strings.Trim(ln, " \t")
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		cur = ln
	}
	if err := flush(); err != nil {
		return nil, err
	}
	for _, n := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		if m.Get(n) == "" {
			return nil, malformed("missing %s", n)
		}
	}
	for _, n := range []string{"From", "To", "Call-ID", "CSeq", "Content-Length", "Content-Type", "Max-Forwards"} {
		if m.count(n) > 1 {
			return nil, malformed("%s more than once", n)
		}
	}
	_, method, err := m.CSeq()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if m.IsRequest() && method != m.Method {
		return nil, malformed("CSeq method %q does not match %q", method, m.Method)
	}
	if cl, ok := m.lookup("Content-Length"); ok {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return nil, malformed("bad Content-Length %.20q", cl)
		}
		if n > len(body) {
			return nil, malformed("Content-Length %d exceeds the %d bytes received", n, len(body))
		}
		body = body[:n]
	}
	if len(body) > 0 {
		m.Body = append([]byte(nil), body...)
	}
	return m, nil
}

func legacySplitHead(b []byte) (head, body []byte, ok bool) {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		if j := bytes.Index(b[:i], []byte("\n\n")); j >= 0 {
			return b[:j], b[j+2:], true
		}
		return b[:i], b[i+4:], true
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i], b[i+2:], true
	}
	// A datagram without a blank line: accept it when it ends in a line end.
	if bytes.HasSuffix(b, []byte("\n")) {
		return bytes.TrimRight(b, "\r\n"), nil, true
	}
	return nil, nil, false
}

func legacySplitLines(head []byte) []string {
	s := string(head)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

func legacyStartLine(m *Message, l string) error {
	if strings.HasPrefix(l, "SIP/") {
		// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
		ver, rest, ok := strings.Cut(l, " ")
		if !ok || ver != "SIP/2.0" {
			return malformed("bad status line %.60q", l)
		}
		code, reason, _ := strings.Cut(rest, " ")
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
	// Request-Line = Method SP Request-URI SP SIP-Version
	parts := strings.Split(l, " ")
	if len(parts) != 3 || parts[2] != "SIP/2.0" {
		return malformed("bad request line %.60q", l)
	}
	if !isToken(parts[0]) {
		return malformed("bad method %.20q", parts[0])
	}
	if parts[1] == "" || !strings.Contains(parts[1], ":") || strings.ContainsAny(parts[1], "<>\t") {
		return malformed("bad Request-URI %.60q", parts[1])
	}
	m.Method, m.RequestURI = parts[0], parts[1]
	return nil
}
