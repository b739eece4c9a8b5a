package pbx

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Voicemail defaults.
const (
	DefaultVoicemailNumber = "8000"
	DefaultVoicemailMax    = 60 * time.Second
)

// Mailboxes live in VoicemailDir/EXT/new and VoicemailDir/EXT/old, one WAV
// file a message (8 kHz, 16-bit, mono); a message is marked old by moving
// it. The counts NOTIFY reports are the files there.

// openMailboxes makes the voicemail folder (a temporary one when none is
// configured).
func (p *PBX) openMailboxes() error {
	if p.cfg.VoicemailDir == "" {
		d, err := os.MkdirTemp("", "deskphone-voicemail-")
		if err != nil {
			return fmt.Errorf("pbx: voicemail folder: %w", err)
		}
		p.cfg.VoicemailDir = d
		p.tmpVoicemail = true
	}
	if err := os.MkdirAll(p.cfg.VoicemailDir, 0o755); err != nil {
		return fmt.Errorf("pbx: voicemail folder: %w", err)
	}
	return nil
}

// VoicemailDir is the folder of the mailboxes (set by Start when
// Config.VoicemailDir was empty).
func (p *PBX) VoicemailDir() string {
	var d string
	if p.do(func() { d = p.cfg.VoicemailDir }) != nil {
		return p.cfg.VoicemailDir // not running: nobody else touches cfg
	}
	return d
}

// Messages lists the WAV files of ext's box, new and old, oldest first.
func (p *PBX) Messages(ext string) (newMsgs, oldMsgs []string) {
	dir := p.VoicemailDir()
	return listWAV(filepath.Join(dir, ext, "new")), listWAV(filepath.Join(dir, ext, "old"))
}

func listWAV(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".wav") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out) // names start with the time recorded
	return out
}

func (p *PBX) boxCounts(ext string) (newMsgs, oldMsgs int) {
	dir := filepath.Join(p.cfg.VoicemailDir, ext)
	return len(listWAV(filepath.Join(dir, "new"))), len(listWAV(filepath.Join(dir, "old")))
}

// MarkOld moves ext's new messages to old and sends the NOTIFY saying so.
func (p *PBX) MarkOld(ext string) error {
	var err error
	if e := p.do(func() {
		err = p.markOld(ext, listWAV(filepath.Join(p.cfg.VoicemailDir, ext, "new")))
		p.notifyMWI(ext)
	}); e != nil {
		return e
	}
	return err
}

func (p *PBX) markOld(ext string, paths []string) error {
	oldDir := filepath.Join(p.cfg.VoicemailDir, ext, "old")
	newDir := filepath.Join(p.cfg.VoicemailDir, ext, "new")
	if err := os.MkdirAll(oldDir, 0o755); err != nil {
		return fmt.Errorf("pbx: %w", err)
	}
	for _, f := range paths {
		if filepath.Dir(f) != newDir {
			continue // played from old already
		}
		if err := os.Rename(f, filepath.Join(oldDir, filepath.Base(f))); err != nil {
			return fmt.Errorf("pbx: %w", err)
		}
	}
	return nil
}

// vmCall is a call the PBX answered as the mailbox (a UAS dialog, RFC 3261
// section 12.1.1).
type vmCall struct {
	box       string
	owner     bool // the box's owner listening, else a caller leaving a message
	callID    string
	localTag  string
	local     string // the PBX's From value towards the caller (To of the INVITE, tagged)
	remote    string // the caller's From value
	target    string // the caller's Contact URI
	via       string // host:port the caller reaches the PBX by
	upstream  *net.UDPAddr
	ok        *sipmsg.Message // the 200 to the INVITE, retransmitted until ACK
	okRaw     []byte
	acked     bool
	answered  time.Time
	next      time.Time
	interval  time.Duration
	seq       uint32
	stop      chan struct{}
	stopped   bool // stop closed
	byeSent   bool
	byeRecved bool
}

// vmTarget says whether an initial INVITE is for the voicemail number: the
// box it reaches and whether its owner is calling to listen. The box is the
// one named after "*" ("8000*1002"), else the diverting extension of the
// newest Diversion header (RFC 5806), else the caller's own.
func (p *PBX) vmTarget(m *sipmsg.Message, user string) (box string, owner, ok bool) {
	box, owner, ok = p.vmTarget1(m, user)
	if ok && !safeBox(box) {
		return "", false, false
	}
	return box, owner, ok
}

// safeBox reports whether an extension can name a mailbox folder.
func safeBox(ext string) bool {
	return ext != "" && ext != "." && ext != ".." && !strings.ContainsAny(ext, `/\`+"\x00")
}

func (p *PBX) vmTarget1(m *sipmsg.Message, user string) (box string, owner, ok bool) {
	vm := p.cfg.VoicemailNumber
	caller := userOf(m.Get("From"))
	switch {
	case user == vm:
		if d := m.Get("Diversion"); d != "" {
			if first := sipmsg.SplitList(d); len(first) > 0 {
				if ext := userOf(first[0]); p.cfg.Users[ext] != "" {
					return ext, false, true
				}
			}
		}
		return caller, true, true
	case strings.HasPrefix(user, vm+"*"):
		ext := strings.TrimPrefix(user, vm+"*")
		if p.cfg.Users[ext] == "" {
			return "", false, false
		}
		return ext, false, true
	}
	return "", false, false
}

// answerVoicemail answers an INVITE (as received, upstream its sender) as
// the mailbox: 200 with an SDP answer from the PBX's own RTP socket, then
// the prompt and the recording (or the owner's messages) in a goroutine.
func (p *PBX) answerVoicemail(req *sipmsg.Message, src *net.UDPAddr, box string, owner bool) *sipmsg.Message {
	offer, err := sdp.Parse(req.Body)
	if err != nil || len(req.Body) == 0 {
		p.respond(req, src, 488, "Not Acceptable Here", nil)
		return nil
	}
	pcmu, _ := sdp.StaticCodec("PCMU")
	pcma, _ := sdp.StaticCodec("PCMA")
	via := p.upstreamLocal(src, req.RequestURI)
	host, _, _ := net.SplitHostPort(via)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: p.mediaBind()})
	if err != nil {
		p.cfg.Logf("pbx: voicemail RTP socket: %v", err)
		p.respond(req, src, 500, "Server Internal Error", nil)
		return nil
	}
	local := sdp.Session{
		Origin: sdp.Origin{User: "deskphone-pbx", SessionID: uint64(p.now().UnixNano()), Version: 1},
		Host:   host,
		Media: []sdp.Media{{Type: "audio", Port: conn.LocalAddr().(*net.UDPAddr).Port, Proto: "RTP/AVP",
			Codecs: []sdp.Codec{pcmu, pcma}, Ptime: 20}},
	}
	ans, err := sdp.Answer(offer, local)
	if err != nil {
		conn.Close()
		p.respond(req, src, 488, "Not Acceptable Here", nil)
		return nil
	}
	var remote *net.UDPAddr
	var om, am sdp.Media // the audio stream Answer took
	for i := range ans.Media {
		if ans.Media[i].Port != 0 {
			om, am = offer.Media[i], ans.Media[i]
		}
	}
	if ip := net.ParseIP(hostSide(om.Host)); ip != nil && !ip.IsUnspecified() {
		remote = &net.UDPAddr{IP: ip, Port: om.Port}
	}
	pt := uint8(0)
	for _, c := range am.Codecs {
		if c.Name == "PCMA" {
			pt = 8
			break
		}
		if c.Name == "PCMU" {
			break
		}
	}

	to, _ := sipmsg.ParseNameAddr(req.Get("To"))
	c := &vmCall{
		box: box, owner: owner, callID: req.Get("Call-ID"), localTag: p.tagPrefix() + sipmsg.NewTag(),
		remote: req.Get("From"), via: via, upstream: src, answered: p.now(), stop: make(chan struct{}),
	}
	to.SetParam("tag", c.localTag)
	c.local = to.String()
	if cn, err := sipmsg.ParseNameAddr(req.Get("Contact")); err == nil {
		c.target = cn.URI.String()
	}
	r := sipmsg.NewResponse(req, 200, "OK")
	r.Del("Record-Route") // the PBX is the far end: no route to keep
	r.Set("To", c.local)
	r.Add("Contact", "<sip:"+p.cfg.VoicemailNumber+"@"+via+">")
	r.Add("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS")
	r.Add("Server", "deskphone-pbx")
	if !owner {
		p.saysDiverted(r, req, box)
	}
	r.Set("Content-Type", "application/sdp")
	r.Body = ans.Marshal()
	c.ok = r
	c.okRaw = p.send(r, src)
	c.next, c.interval = p.now().Add(t1), t1
	if seq, _, err1 := req.CSeq(); err1 == nil {
		if top, err2 := sipmsg.ParseVia(req.Get("Via")); err2 == nil {
			p.st.cache[txKey(top, seq, "INVITE")] = &cached{raw: c.okRaw, msg: r, dst: src, at: p.now(), code: 200}
		}
	}
	p.st.vm[c.callID] = c

	e := &endpoint{conn: conn, remote: remote, pt: pt, max: p.cfg.VoicemailMax, stop: c.stop, done: p.done}
	e.play = promptSegments()
	if owner {
		e.hangup = true
		newMsgs, oldMsgs := listWAV(filepath.Join(p.cfg.VoicemailDir, box, "new")), listWAV(filepath.Join(p.cfg.VoicemailDir, box, "old"))
		msgs := append(newMsgs, oldMsgs...)
		if len(msgs) == 0 {
			e.play = append(e.play, segment{samples: silence(200 * time.Millisecond)}, segment{samples: toneSamples(BeepFreq, 250*time.Millisecond)})
		}
		for _, f := range msgs {
			s, err := ReadWAV(f)
			if err != nil {
				p.cfg.Logf("pbx: voicemail %s: %v", f, err)
				continue
			}
			e.play = append(e.play, segment{samples: silence(300 * time.Millisecond)}, segment{samples: s, path: f})
		}
		e.play = append(e.play, segment{samples: silence(500 * time.Millisecond)})
		p.cfg.Logf("pbx: voicemail: %s listens to %d new, %d old messages", box, len(newMsgs), len(oldMsgs))
	} else {
		e.record = true
		p.cfg.Logf("pbx: voicemail: %s leaves a message for %s (RTP %s, %s)", userOf(req.Get("From")), box, conn.LocalAddr(), map[uint8]string{0: "PCMU", 8: "PCMA"}[pt])
	}
	p.wg.Add(1)
	go p.runEndpoint(c, e)
	return r
}

// runEndpoint runs a voicemail call's media and hands the result to the
// loop: the message stored, the messages played marked old, the caller hung
// up on when the endpoint ended the call.
func (p *PBX) runEndpoint(c *vmCall, e *endpoint) {
	defer p.wg.Done()
	res := e.run()
	var stored string
	var err error
	if e.record && len(res.samples) > 0 {
		stored, err = p.store(c.box, res.samples)
	}
	p.do(func() {
		if err != nil {
			p.cfg.Logf("pbx: voicemail for %s: %v", c.box, err)
		}
		if stored != "" {
			p.cfg.Logf("pbx: voicemail: %.1f s message (%d RTP packets) for %s in %s", float64(len(res.samples))/sampleRate, res.packets, c.box, stored)
		}
		if len(res.played) > 0 {
			if err := p.markOld(c.box, res.played); err != nil {
				p.cfg.Logf("pbx: voicemail: %v", err)
			}
		}
		if res.limit {
			p.vmBye(c)
		}
		if stored != "" || len(res.played) > 0 {
			p.notifyMWI(c.box)
		}
	})
}

// store writes a message into box's new folder.
func (p *PBX) store(box string, samples []int16) (string, error) {
	dir := filepath.Join(p.cfg.VoicemailDir, box, "new")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := time.Now().UTC().Format("20060102T150405.000000") + ".wav"
	tmp := filepath.Join(p.cfg.VoicemailDir, box, "."+name)
	if err := os.WriteFile(tmp, encodeWAV(samples), 0o644); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, os.Rename(tmp, path)
}

// vmRequest handles a request in a voicemail call's dialog.
func (p *PBX) vmRequest(c *vmCall, m *sipmsg.Message, src *net.UDPAddr) {
	switch m.Method {
	case "ACK":
		c.acked = true
	case "BYE":
		c.byeRecved = true
		p.respond(m, src, 200, "OK", nil)
		p.vmEnd(c)
	case "INVITE":
		// A re-INVITE (session refresh, hold): the same session again.
		p.respond(m, src, 200, "OK", func(r *sipmsg.Message) {
			r.Del("Record-Route")
			r.Set("Content-Type", "application/sdp")
			r.Add("Contact", c.ok.Get("Contact"))
			r.Body = c.ok.Body
		})
	case "CANCEL":
		p.respond(m, src, 200, "OK", nil) // too late: already answered
	default:
		p.respond(m, src, 200, "OK", nil)
	}
}

// vmEnd stops a voicemail call's media (the endpoint then reports).
func (p *PBX) vmEnd(c *vmCall) {
	if !c.stopped {
		c.stopped = true
		close(c.stop)
	}
}

// vmBye hangs up a voicemail call from the PBX's side (RFC 3261 section
// 15.1.1): the recording limit passed, or the messages were played.
func (p *PBX) vmBye(c *vmCall) {
	if c.byeSent || c.byeRecved || c.target == "" {
		delete(p.st.vm, c.callID)
		return
	}
	c.byeSent = true
	c.seq++
	m := sipmsg.NewRequest("BYE", c.target)
	m.Add("Via", "SIP/2.0/UDP "+c.via+";branch="+p.newBranch()+";rport")
	m.Add("Max-Forwards", "70")
	m.Add("From", c.local)
	m.Add("To", c.remote)
	m.Add("Call-ID", c.callID)
	m.Add("CSeq", strconv.FormatUint(uint64(c.seq), 10)+" BYE")
	callID := c.callID
	p.sendUAC(m, c.upstream, func(int) { delete(p.st.vm, callID) })
	p.vmEnd(c)
}

// tickVoicemail retransmits each unacknowledged 200 (RFC 3261 section
// 13.3.1.4) and ends calls whose ACK never came; it also ends lapsed
// subscriptions.
func (p *PBX) tickVoicemail(now time.Time) {
	for _, c := range p.st.vm {
		if c.acked || c.byeSent || c.byeRecved {
			if c.stopped && (c.byeRecved || c.target == "") {
				delete(p.st.vm, c.callID)
			}
			continue
		}
		if now.Sub(c.answered) >= timerB {
			p.cfg.Logf("pbx: voicemail call %s: no ACK", c.callID)
			p.vmBye(c)
			continue
		}
		if !now.Before(c.next) {
			c.interval = min(2*c.interval, timerT2)
			c.next = now.Add(c.interval)
			p.sendRaw(c.ok, c.okRaw, c.upstream)
		}
	}
	p.sweepSubs(now)
}

// saysDiverted tells the caller, in the mailbox's 200, that its call
// reached box's mailbox rather than box, as PBXs do: the Diversion
// headers the call came with (RFC 5806), History-Info from the number
// called to the voicemail number with the cause of the diversion (RFC
// 7044; the cause per RFC 4458, mp: the target was mapped), and the
// mailbox's name in P-Asserted-Identity (RFC 3325). The phone shows
// "Voicemail of 1002" (sipua.Divert).
func (p *PBX) saysDiverted(r, req *sipmsg.Message, box string) {
	divs := req.GetAll("Diversion")
	reason := "unavailable"
	for i, d := range divs {
		r.Add("Diversion", d)
		if na, err := sipmsg.ParseNameAddr(d); i == 0 && err == nil {
			if v, ok := na.Param("reason"); ok {
				reason = v
			}
		}
	}
	vm, host := p.cfg.VoicemailNumber, p.cfg.Realm
	r.Add("History-Info", "<sip:"+box+"@"+host+">;index=1")
	r.Add("History-Info", "<sip:"+vm+"@"+host+";cause="+strconv.Itoa(diversionCause(reason))+">;index=1.1;mp=1")
	r.Add("P-Asserted-Identity", `"Voicemail of `+box+`" <sip:`+vm+"@"+host+">")
}

// diversionCause is the RFC 4458 cause of an RFC 5806 reason.
func diversionCause(reason string) int {
	switch reason {
	case "user-busy":
		return 486
	case "no-answer":
		return 408
	case "unconditional":
		return 302
	default:
		return 480
	}
}

// diversionReason is the RFC 5806 reason for a failure response.
func diversionReason(code int) string {
	switch code {
	case 486:
		return "user-busy"
	case 408:
		return "no-answer"
	default:
		return "unavailable"
	}
}

// ownDialog hands a request in a dialog the PBX is an end of (a voicemail
// call, a message-summary subscription) to its handler; it reports whether
// it was one.
func (p *PBX) ownDialog(m *sipmsg.Message, src *net.UDPAddr) bool {
	if m.Method == "REGISTER" {
		return false
	}
	to, err := sipmsg.ParseNameAddr(m.Get("To"))
	if err != nil {
		return false
	}
	tag, _ := to.Param("tag")
	if tag == "" {
		return false
	}
	callID := m.Get("Call-ID")
	if c := p.st.vm[callID]; c != nil && tag == c.localTag {
		p.vmRequest(c, m, src)
		return true
	}
	if s := p.st.subs[callID]; s != nil && tag == s.localTag {
		if isMWISubscribe(m) {
			p.subscribe(m, src, s)
		} else {
			p.respond(m, src, 200, "OK", nil)
		}
		return true
	}
	return false
}

// VoicemailNumber is the number that reaches the mailboxes.
func (p *PBX) VoicemailNumber() string { return p.cfg.VoicemailNumber }
