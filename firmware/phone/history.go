package phone

import (
	"fmt"
	"time"
)

// histEntry is one call of the call history.
type histEntry struct {
	incoming bool
	peer     string // as shown
	number   string // to call back
	result   string // answered, missed, busy, rejected, cancelled, forwarded:TARGET, failed:CODE
	ended    time.Time
}

func (h histEntry) String() string {
	dir := "out"
	if h.incoming {
		dir = "in"
	}
	return dir + " " + h.peer + " " + h.result
}

// addHist records a call, newest first, keeping history.size of them.
func (p *Phone) addHist(h histEntry) {
	max := p.d.Config.HistorySize
	if max <= 0 || h.peer == "" {
		return
	}
	h.ended = time.Now()
	if len(p.hist) < max {
		p.hist = append(p.hist, histEntry{})
	}
	copy(p.hist[1:], p.hist)
	p.hist[0] = h
	p.histPos = -1
}

// browse moves through the history with up (older) and down (newer) while
// no call is up; send or ok calls the entry shown, cancel leaves.
func (p *Phone) browse(older bool) {
	if p.call != nil || (p.state != Idle && p.state != DialTone) {
		return
	}
	if len(p.hist) == 0 {
		p.d.Out.Display(1, "No calls")
		return
	}
	p.missed = 0 // seen: the idle screen stops counting them
	switch {
	case older && p.histPos < len(p.hist)-1:
		p.histPos++
	case !older && p.histPos > 0:
		p.histPos--
	case !older && p.histPos < 0:
		p.histPos = 0
	}
	p.d.Out.Display(1, fmt.Sprintf("%d/%d %s", p.histPos+1, len(p.hist), p.hist[p.histPos]))
}

// callBack calls the history entry shown back.
func (p *Phone) callBack() {
	number := p.hist[p.histPos].number
	if number == "" {
		p.d.Out.Display(1, "No number to call back")
		return
	}
	p.placeCall(number)
}
