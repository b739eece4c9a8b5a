package phone

// State is what the phone as a whole is doing, as panel.md's `phone STATE`.
type State int

const (
	Idle      State = iota // on hook, no call
	DialTone               // off hook, nothing dialled yet: dial tone
	Dialing                // digits entered, not yet sent
	Calling                // INVITE sent, no ringing yet (RFC 3261 13.2.1)
	Ringback               // the far end rings (180, RFC 3261 13.2.2.1): ringback tone
	Ringing                // an incoming call rings here (RFC 3261 13.3.1.1)
	Connected              // a confirmed dialog with media both ways (RFC 3261 13.2.2.4)
	Busy                   // a call attempt failed: busy or congestion tone until the handset is replaced
	Held                   // the call is on hold here (re-INVITE a=sendonly, RFC 3264 8.4)
)

func (s State) String() string {
	switch s {
	case Idle:
		return "idle"
	case DialTone:
		return "dialtone"
	case Dialing:
		return "dialing"
	case Calling:
		return "calling"
	case Ringback:
		return "ringback"
	case Ringing:
		return "ringing"
	case Connected:
		return "connected"
	case Busy:
		return "busy"
	case Held:
		return "held"
	}
	return "unknown"
}
