package phone

import "time"

// Dialling (issue 6): digits collect until send (or ok), # after them
// (dialplan.pound_sends), the digit map (dialplan.digitmap) says the number
// is complete, or, off hook, dialplan.interdigit_seconds pass after the last
// digit. *1 to *9 dial speeddial.1 to .9.

func (p *Phone) dialDigit(d byte) {
	p.histPos = -1
	if d == '#' && p.d.Config.PoundSends && len(p.digits) > 0 {
		p.placeCall(string(p.digits))
		return
	}
	if len(p.digits) >= maxDigits {
		return
	}
	p.digits = append(p.digits, d)
	p.setState(Dialing)
	p.setTone("none")
	p.d.Out.Display(1, string(p.digits))
	if p.complete() {
		p.placeCall(string(p.digits))
		return
	}
	if n := p.d.Config.InterdigitSeconds; n > 0 && p.offHook {
		p.interdigit.arm(time.Duration(n) * time.Second)
	}
}

// complete says whether the digits dialled so far are a whole number: a
// configured speed dial code, or a match of the digit map that no further
// digit could extend.
func (p *Phone) complete() bool {
	if p.speedDial(string(p.digits)) != string(p.digits) {
		return true
	}
	full, more := p.digitMap.Match(string(p.digits))
	return full && !more
}

// onInterdigit: nothing was dialled for dialplan.interdigit_seconds.
func (p *Phone) onInterdigit() {
	if p.state == Dialing && p.offHook && len(p.digits) > 0 {
		p.placeCall(string(p.digits))
	}
}

// speedDial turns *N into speeddial.N when that is set.
func (p *Phone) speedDial(t string) string {
	if len(t) == 2 && t[0] == '*' && t[1] >= '1' && t[1] <= '9' {
		if n := p.d.Config.SpeedDial[t[1]-'1']; n != "" {
			return n
		}
	}
	return t
}
