package phone

import (
	"time"

	"github.com/deskphone/deskphone/sipua"
)

// Text messages (SIP MESSAGE, RFC 3428): the user agent reports each as
// sipua.MessageReceived; the phone shows it on its own display row,
// messageRow ("Msg from 1002: hello"), whatever else goes on, and logs it.
// The row is cleared by the next key or after messageShown, whichever
// comes first; a newer message replaces an older one.

const (
	messageRow   = 2 // rows 0 and 1 are the line and the call or prompt
	messageShown = 30 * time.Second
	promptShown  = 5 * time.Second
)

// prompt tells the person what a key did or why it did nothing ("vm: no
// voicemail.number configured", "forward every call to 1003"): on the
// message row for promptShown (or until the next key), as a desk phone's
// display does, and as a log line on the panel.
func (p *Phone) prompt(text string) {
	p.d.Out.Log(text)
	p.d.Out.Display(messageRow, text)
	p.msgShown.arm(promptShown)
}

func (p *Phone) onMessage(ev sipua.Event) {
	from := ev.Peer
	if from == "" {
		from = ev.Number
	}
	p.logf("phone: line %d: message from %s (%s): %s", ev.Line, from, ev.Number, ev.Text)
	p.d.Out.Log("message from " + from + ": " + ev.Text)
	p.d.Out.Display(messageRow, "Msg from "+from+": "+ev.Text)
	p.msgShown.arm(messageShown)
}

// clearMessage takes a shown message off the display.
func (p *Phone) clearMessage() {
	if !p.msgShown.armed() {
		return
	}
	p.msgShown.stop()
	p.d.Out.Display(messageRow, "")
}
