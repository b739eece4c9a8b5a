package sipua

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

// Instant messages (RFC 3428, pager mode): a MESSAGE from a trusted
// source, inside a call's dialog or outside any, with a text/plain body
// (screen.go has refused other types with 415) is answered 200 and
// reported as MessageReceived with the sender and the text, cleaned for a
// display and bounded.

const (
	// maxMessageBody is the largest MESSAGE body taken; a larger one gets
	// 413 (RFC 3428 section 7 bounds pager-mode requests to 1300 bytes on
	// UDP; over TCP a peer may send more, a phone shows a line).
	maxMessageBody = 4096
	// MaxMessageText bounds Event.Text, in bytes: a longer text is cut at
	// a character boundary and ends with "…".
	MaxMessageText = 256
)

// handleMessage answers a MESSAGE (RFC 3428 section 7): 481 inside a
// dialog we do not have (RFC 3261 12.2.2), 413 when too large, 415 with
// Accept for a charset we cannot show, else 200 and a MessageReceived
// event (none for an empty text).
func (ua *UA) handleMessage(srv *transaction.Server, m *sipmsg.Message) {
	var c *call
	if m.ToTag() != "" {
		if c = ua.byDialog(m); c == nil || c.dlg == nil {
			ua.respond(srv, 481, "", nil)
			return
		}
		if seq, _, _ := m.CSeq(); seq > c.dlg.RemoteSeq {
			c.dlg.RemoteSeq = seq // 12.2.2
		}
	}
	tag := func(r *sipmsg.Message) {
		if c == nil {
			addToTag(r, sipmsg.NewTag())
		}
	}
	if len(m.Body) > maxMessageBody {
		ua.logf("sipua: 413 to a MESSAGE of %d bytes", len(m.Body))
		ua.respond(srv, 413, "", tag)
		return
	}
	text, ok := decodeText(m.Body, param(m.Get("Content-Type"), "charset"))
	if !ok {
		ua.logf("sipua: 415 to a MESSAGE in charset %.20q", param(m.Get("Content-Type"), "charset"))
		ua.respond(srv, 415, "", func(r *sipmsg.Message) {
			tag(r)
			r.Add("Accept", "text/plain;charset=utf-8")
		})
		return
	}
	ua.respond(srv, 200, "", tag)
	text = displayText(text, MaxMessageText)
	from := m.Get("From")
	if text == "" {
		ua.logf("sipua: empty MESSAGE from %s", numberOf(from))
		return
	}
	e := Event{Kind: MessageReceived, Line: ua.lineFor(m), Peer: userOf(from), Number: numberOf(from), Text: text}
	if c != nil {
		e.Line, e.Call = c.line.n, c.id
	}
	ua.emit(e)
}

// decodeText turns a text/plain body into a string: UTF-8 (also when no
// charset is named, and for US-ASCII, its subset; invalid bytes become
// U+FFFD) or ISO-8859-1. Other charsets are not shown (ok false).
func decodeText(b []byte, charset string) (string, bool) {
	switch strings.ToLower(charset) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return strings.ToValidUTF8(string(b), "\uFFFD"), true
	case "iso-8859-1", "latin1", "iso_8859-1", "l1":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), true
	}
	return "", false
}

// displayText makes text fit one display line: control characters and
// runs of white space become one space, the ends are trimmed, and a text
// longer than max bytes is cut at a character boundary, ending in "…".
func displayText(text string, max int) string {
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if len(text) <= max {
		return text
	}
	const ell = "…"
	cut := max - len(ell)
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return strings.TrimRight(text[:cut], " ") + ell
}
