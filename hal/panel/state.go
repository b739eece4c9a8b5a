package panel

import (
	"strconv"
	"sync"
)

// What the phone shows, kept by the Server so that a client that connects
// while the phone runs sees it all (panel/3): after `ready` and `audio`,
// `state begin`, the registration of each line, the phone's state, each
// call that has not ended, the ringer, the tone, every lamp, every display
// row and each voicemail count, then `state end`. A `state` request replays
// it again to the client that asked (a hub in front of the phone routes the
// framed replay to the client that asked: tools/panelhub). The state is fixed in size (strings the
// phone passes are kept as they are, display rows are copied into their
// own buffers), so keeping it allocates nothing.

const (
	stateLines = 8  // lines whose reg and mwi are kept
	stateCalls = 8  // calls kept; a ninth replaces the oldest
	stateLEDs  = 16 // lamps kept; more are not replayed
	stateRows  = 8  // display rows kept
)

type shownCall struct {
	id          int
	state, peer string
}

type shownLED struct{ name, state string }

type shownMWI struct {
	set      bool
	new, old int
}

// shown is the state; Server.st guards it and orders each change against
// the lines sent, so a replay is never older than a line after it.
type shown struct {
	mu     sync.Mutex
	reg    [stateLines]string // "" = not reported
	phone  string
	calls  [stateCalls]shownCall // id 0 = free
	next   int                   // the slot a call replaces when all are taken
	ringOn bool
	ring   string // cadence
	tone   string
	leds   [stateLEDs]shownLED
	rows   [stateRows][]byte // cap maxLine each
	rowSet [stateRows]bool
	mwi    [stateLines]shownMWI
}

func (st *shown) init() {
	for i := range st.rows {
		st.rows[i] = make([]byte, 0, maxLine)
	}
}

func (st *shown) setReg(line int, state string) {
	if line >= 1 && line <= stateLines {
		st.reg[line-1] = state
	}
}

func (st *shown) setCall(id int, state, peer string) {
	ended := len(state) >= 5 && state[:5] == "ended"
	free := -1
	for i := range st.calls {
		c := &st.calls[i]
		switch {
		case c.id == id && c.id != 0:
			if ended {
				*c = shownCall{}
			} else {
				c.state, c.peer = state, peer
			}
			return
		case c.id == 0 && free < 0:
			free = i
		}
	}
	if ended {
		return
	}
	if free < 0 {
		free = st.next
		st.next = (st.next + 1) % stateCalls
	}
	st.calls[free] = shownCall{id: id, state: state, peer: peer}
}

func (st *shown) setLED(name, state string) {
	free := -1
	for i := range st.leds {
		switch {
		case st.leds[i].name == name:
			st.leds[i].state = state
			return
		case st.leds[i].name == "" && free < 0:
			free = i
		}
	}
	if free >= 0 {
		st.leds[free] = shownLED{name, state}
	}
}

func (st *shown) setRow(row int, text []byte, s string) {
	if row < 0 || row >= stateRows {
		return
	}
	b := st.rows[row][:0]
	if text != nil {
		b = append(b, text[:min(len(text), maxLine-16)]...)
	} else {
		b = append(b, s[:min(len(s), maxLine-16)]...)
	}
	st.rows[row], st.rowSet[row] = b, true
}

func (st *shown) setMWI(line, n, o int) {
	if line >= 1 && line <= stateLines {
		st.mwi[line-1] = shownMWI{true, n, o}
	}
}

// replayLocked sends the state to c between "state begin" and "state
// end"; st.mu is held.
func (s *Server) replayLocked(c *ctlSession) {
	st := &s.st
	c.send("state begin")
	for i, r := range st.reg {
		if r != "" {
			c.build("reg ", func(b []byte) []byte {
				b = strconv.AppendInt(b, int64(i+1), 10)
				b = append(b, ' ')
				return append(b, token(r)...)
			})
		}
	}
	if st.phone != "" {
		c.build("phone ", func(b []byte) []byte { return append(b, token(st.phone)...) })
	}
	for _, k := range st.calls {
		if k.id != 0 {
			c.build("call ", func(b []byte) []byte { return appendCall(b, k.id, k.state, k.peer) })
		}
	}
	if st.ringOn {
		c.build("ring on ", func(b []byte) []byte { return append(b, token(st.ring)...) })
	} else {
		c.send("ring off")
	}
	if st.tone != "" {
		c.build("tone ", func(b []byte) []byte { return append(b, token(st.tone)...) })
	}
	for _, l := range st.leds {
		if l.name != "" {
			c.build("led ", func(b []byte) []byte { return appendLED(b, l.name, l.state) })
		}
	}
	for i, r := range st.rows {
		if st.rowSet[i] {
			c.build("display ", func(b []byte) []byte {
				b = strconv.AppendInt(b, int64(i), 10)
				b = append(b, ' ')
				return appendText(r, b)
			})
		}
	}
	for i, m := range st.mwi {
		if m.set {
			c.build("mwi ", func(b []byte) []byte { return appendMWI(b, i+1, m.new, m.old) })
		}
	}
	c.send("state end")
}

// replay sends the state to c.
func (s *Server) replay(c *ctlSession) {
	s.st.mu.Lock()
	s.replayLocked(c)
	s.st.mu.Unlock()
}
