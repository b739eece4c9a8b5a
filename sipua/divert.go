package sipua

import (
	"strconv"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Divert says that a call the phone placed reached another party than
// the one it called, as the PBX said in a response (18x or 2xx): the
// History-Info (RFC 7044) from the number called to the one reached,
// else the Diversion headers (RFC 5806), and the name the PBX gave the
// party that answered (P-Asserted-Identity, RFC 3325). A PBX that puts a
// caller into the callee's mailbox says so this way; the phone shows
// "Voicemail of 1002" rather than "Talking to 1002".
type Divert struct {
	From   string // the number called: the user part of the original target (or the URI)
	To     string // the party reached, likewise ("8000", a mailbox); "" = not said
	Reason string // why: RFC 5806's reason ("unavailable", "user-busy", "no-answer", "unconditional"), or History-Info's cause as one of those
	Name   string // the answering party's display name the PBX gave ("Voicemail of 1002"); "" = none
}

// divertOf reads a response's retargeting headers; the zero Divert when
// it has none or they do not parse (logged by the caller, never fatal).
func divertOf(r *sipmsg.Message) (Divert, error) {
	var d Divert
	his := r.GetAll("History-Info")
	divs := r.GetAll("Diversion")
	if len(his) == 0 && len(divs) == 0 {
		return d, nil
	}
	if len(his) > 0 {
		hs, err := sipmsg.ParseHistoryInfo(his)
		if err != nil {
			return Divert{}, err
		}
		if len(hs) >= 2 {
			first, last := hs[0], hs[len(hs)-1]
			if f, t := uriNumber(first.URI), uriNumber(last.URI); f != t && (last.Cause != 0 || last.Mapped != "" || last.Retargeted != "") {
				d.From, d.To, d.Reason = f, t, causeReason(last.Cause)
			}
		}
	}
	if d.From == "" && len(divs) > 0 {
		ds, err := sipmsg.ParseDiversion(divs)
		if err != nil {
			return Divert{}, err
		}
		// Newest first: the last names the number originally called,
		// the first says why the call went where it went.
		d.From, d.Reason = uriNumber(ds[len(ds)-1].URI), ds[0].Reason
	}
	if d.From == "" {
		return d, nil
	}
	if pai := r.Get("P-Asserted-Identity"); pai != "" {
		if na, err := sipmsg.ParseNameAddr(pai); err == nil {
			d.Name = na.Display
			if d.To == "" {
				d.To = uriNumber(na.URI)
			}
		}
	}
	return d, nil
}

// uriNumber is the user part of u, or the whole URI when it has none.
func uriNumber(u sipmsg.URI) string {
	if u.User != "" {
		return u.User
	}
	return u.String()
}

// causeReason names a History-Info cause (RFC 4458 section 2) by the
// Diversion reason it corresponds to; another status as its number.
func causeReason(cause int) string {
	switch cause {
	case 0:
		return ""
	case 302:
		return "unconditional"
	case 486, 600:
		return "user-busy"
	case 408:
		return "no-answer"
	case 480, 503:
		return "unavailable"
	case 487:
		return "deflection"
	}
	return strconv.Itoa(cause)
}
