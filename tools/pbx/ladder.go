package pbx

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// LadderSize is how many entries Ladder keeps: the most recent ones.
const LadderSize = 10000

// Entry is one SIP message that passed through the PBX.
type Entry struct {
	Time    time.Time
	Dir     string       // "in" (received by the PBX) or "out" (sent by it)
	Peer    *net.UDPAddr // where it came from or went to
	Summary string       // the start line: "INVITE sip:1002@pbx" or "180 Ringing"
	Method  string       // the CSeq method
	CallID  string
	From    string // user part of From
	To      string // user part of To
	Request bool   // a request (else a response)
	Status  int    // the status code of a response
	Raw     []byte // the message as on the wire; owned by the Entry
}

// newEntry describes m (parsed from or marshalled to raw).
func newEntry(now time.Time, dir string, peer *net.UDPAddr, m *sipmsg.Message, raw []byte) Entry {
	e := Entry{Time: now, Dir: dir, Peer: peer, Raw: raw}
	if m == nil {
		line, _, _ := strings.Cut(string(raw), "\n")
		e.Summary = "(unparseable) " + strings.TrimSpace(line)
		if len(e.Summary) > 80 {
			e.Summary = e.Summary[:80]
		}
		return e
	}
	if m.IsRequest() {
		e.Request = true
		e.Summary = m.Method + " " + m.RequestURI
	} else {
		e.Status = m.StatusCode
		e.Summary = strconv.Itoa(m.StatusCode) + " " + m.Reason
	}
	_, e.Method, _ = m.CSeq()
	e.CallID = m.Get("Call-ID")
	e.From = userOf(m.Get("From"))
	e.To = userOf(m.Get("To"))
	return e
}

func userOf(nameAddr string) string {
	na, err := sipmsg.ParseNameAddr(nameAddr)
	if err != nil {
		return ""
	}
	return na.URI.User
}

// sides returns who sent and who received the entry's message, naming the
// PBX "PBX" and a phone by its user (mapped through names when listed).
func (e Entry) sides(names map[string]string) (from, to string) {
	// A request goes from its From user to its To user; a response back.
	src, dst := e.From, e.To
	if !e.Request {
		src, dst = dst, src
	}
	name := func(u string) string {
		if n, ok := names[u]; ok {
			return n
		}
		if u == "" {
			if e.Peer != nil {
				return e.Peer.String()
			}
			return "?"
		}
		return u
	}
	if e.Dir == "in" {
		return name(src), "PBX"
	}
	return "PBX", name(dst)
}

// String formats the entry on one line: time, sides, start line, Call-ID.
func (e Entry) String() string {
	from, to := e.sides(nil)
	return fmt.Sprintf("%s %-3s %-21s %s -> %s  %s  (%s)", e.Time.Format("15:04:05.000"), e.Dir,
		peerString(e.Peer), from, to, e.Summary, e.CallID)
}

func peerString(a *net.UDPAddr) string {
	if a == nil {
		return "-"
	}
	return a.String()
}

// FormatLadder prints entries as a readable ladder, one line per message:
// the time since the first entry, an arrow between the named parties and the
// start line, e.g. "+0.004s  1001     -> PBX       INVITE sip:1002@pbx".
// Parties are named by the From/To users, through names when listed there
// (e.g. {"1001": "alice"}); the PBX is "PBX".
func FormatLadder(entries []Entry, names map[string]string) string {
	var b strings.Builder
	if len(entries) == 0 {
		return ""
	}
	t0 := entries[0].Time
	for _, e := range entries {
		from, to := e.sides(names)
		fmt.Fprintf(&b, "+%.3fs  %-8s -> %-8s  %s\n", e.Time.Sub(t0).Seconds(), from, to, e.Summary)
	}
	return b.String()
}

// ladder is the bounded record of entries, shared by the loop and callers.
type ladder struct {
	mu    sync.Mutex
	buf   []Entry
	start int // index of the oldest entry once full
	size  int
}

func (l *ladder) add(e Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) < l.size {
		l.buf = append(l.buf, e)
		return
	}
	l.buf[l.start] = e
	l.start = (l.start + 1) % l.size
}

func (l *ladder) snapshot() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Entry, 0, len(l.buf))
	out = append(out, l.buf[l.start:]...)
	return append(out, l.buf[:l.start]...)
}
