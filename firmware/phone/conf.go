package phone

// A local three-way conference (issue 6): with one call connected and one
// held, the conf key resumes the held one on the second audio engine
// (Deps.Second) and the audio loop mixes both (Deps.Mix, audio.Conference):
// the user hears both far ends, each far end hears the user and the other.
// conf again splits it (the second call goes back on hold); either far end
// hanging up leaves the other connected; the handset down ends both.

// eng is the engine c's stream runs on.
func (p *Phone) eng(c *call) Media {
	if c.second && p.d.Second != nil {
		return p.d.Second
	}
	return p.d.Media
}

func (p *Phone) confKey() {
	switch {
	case p.d.Second == nil || p.d.Mix == nil:
		p.prompt("conf: this phone has no second audio engine")
	case p.conf:
		o := p.other
		if p.holdCall(o) {
			p.showCall()
		}
	case p.call != nil && p.state == Connected && p.other != nil && p.other.held:
		o := p.other
		if err := p.d.UA.Hold(o.id, false); err != nil {
			p.logf("phone: resume call %d: %v", o.id, err)
			p.prompt("conf: resume failed: " + err.Error())
			return
		}
		o.held, o.second = false, true
		p.startMediaOf(o, o.remote)
		p.conf = true
		p.d.Mix(true)
		p.callStateOf(o, "connected")
		p.d.Out.LED("hold", "off")
		p.showCall()
	default:
		p.prompt("conf: needs a call connected and one on hold")
	}
}

// unmix ends the conference mix (the audio loop runs the first engine).
func (p *Phone) unmix() {
	if !p.conf {
		return
	}
	p.conf = false
	p.d.Mix(false)
}
