package dialog

import (
	"fmt"
	"strconv"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Dialog is one dialog's state. Owned by one goroutine.
type Dialog struct {
	CallID              string
	LocalTag, RemoteTag string
	Local, Remote       sipmsg.NameAddr // From and To of requests we send (with tags)
	LocalSeq, RemoteSeq uint32
	RemoteTarget        sipmsg.URI // the peer's Contact; change it with SetRemoteTarget
	RouteSet            []string   // Route values for requests, in order

	// Written once by NewRequest (Local, Remote and the route set do not
	// change in a dialog; the remote target does, by SetRemoteTarget).
	localS, remoteS, targetS string
	// The route set as requests use it, worked out once (routed): with a
	// strict router first (no lr), strictURI is the request URI and
	// strictRoutes the Route values, which end in the remote target.
	routed       bool
	strictURI    string
	strictRoutes []string
	strictFor    string // the targetS strictRoutes ends in
}

// SetRemoteTarget replaces the remote target (a target refresh, 12.2.1.2
// and 12.2.2).
func (d *Dialog) SetRemoteTarget(u sipmsg.URI) {
	d.RemoteTarget = u
	d.targetS = ""
}

// ID identifies the dialog: Call-ID, local tag, remote tag.
func (d *Dialog) ID() string { return d.CallID + ";" + d.LocalTag + ";" + d.RemoteTag }

func contactURI(m *sipmsg.Message) (sipmsg.URI, error) {
	c := m.Get("Contact")
	if c == "" {
		return sipmsg.URI{}, fmt.Errorf("dialog: no Contact")
	}
	na, err := sipmsg.ParseNameAddr(c)
	if err != nil {
		return sipmsg.URI{}, fmt.Errorf("dialog: Contact: %w", err)
	}
	return na.URI, nil
}

// NewUAC makes the caller's dialog from its request and a 1xx (with To tag)
// or 2xx response (12.1.2): route set = Record-Route reversed, remote
// target = the response's Contact.
func NewUAC(req, resp *sipmsg.Message) (*Dialog, error) {
	from, err := sipmsg.ParseNameAddr(req.Get("From"))
	if err != nil {
		return nil, fmt.Errorf("dialog: From: %w", err)
	}
	to, err := sipmsg.ParseNameAddr(resp.Get("To"))
	if err != nil {
		return nil, fmt.Errorf("dialog: To: %w", err)
	}
	target, err := contactURI(resp)
	if err != nil {
		return nil, err
	}
	seq, _, err := req.CSeq()
	if err != nil {
		return nil, fmt.Errorf("dialog: %w", err)
	}
	d := &Dialog{CallID: req.Get("Call-ID"), Local: from, Remote: to, LocalSeq: seq, RemoteTarget: target}
	d.LocalTag, _ = from.Param("tag")
	d.RemoteTag, _ = to.Param("tag")
	rr := resp.GetAll("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		d.RouteSet = append(d.RouteSet, rr[i])
	}
	return d, nil
}

// NewUAS makes the callee's dialog from the request (12.1.1): route set =
// Record-Route in order, remote target = the request's Contact; localTag is
// the To tag the UAS put in its response.
func NewUAS(req *sipmsg.Message, localTag string) (*Dialog, error) {
	from, err := sipmsg.ParseNameAddr(req.Get("From"))
	if err != nil {
		return nil, fmt.Errorf("dialog: From: %w", err)
	}
	to, err := sipmsg.ParseNameAddr(req.Get("To"))
	if err != nil {
		return nil, fmt.Errorf("dialog: To: %w", err)
	}
	to.SetParam("tag", localTag)
	target, err := contactURI(req)
	if err != nil {
		return nil, err
	}
	seq, _, err := req.CSeq()
	if err != nil {
		return nil, fmt.Errorf("dialog: %w", err)
	}
	d := &Dialog{CallID: req.Get("Call-ID"), LocalTag: localTag, Local: to, Remote: from, RemoteSeq: seq, RemoteTarget: target}
	d.RemoteTag, _ = from.Param("tag")
	d.RouteSet = req.GetAll("Record-Route")
	return d, nil
}

// NewRequest builds a request inside the dialog (12.2.1.1) without Via:
// Request-URI and Route from the remote target and route set (loose
// routing; a strict first route becomes the Request-URI), From/To with
// tags, Call-ID, and CSeq (the next local number; ACK and CANCEL reuse the
// current one, which is the INVITE's).
func (d *Dialog) NewRequest(method string) *sipmsg.Message {
	if method != "ACK" && method != "CANCEL" {
		d.LocalSeq++
	}
	if d.targetS == "" {
		d.targetS = d.RemoteTarget.String()
	}
	if d.localS == "" {
		d.localS, d.remoteS = d.Local.String(), d.Remote.String()
	}
	ruri := d.targetS
	routes := d.RouteSet
	if !d.routed && len(routes) > 0 {
		if first, err := sipmsg.ParseNameAddr(routes[0]); err == nil {
			if _, lr := first.URI.Param("lr"); !lr { // strict routing
				d.strictURI = first.URI.String()
			}
		}
	}
	d.routed = true
	if d.strictURI != "" {
		if d.strictFor != d.targetS { // the remote target is the last route
			d.strictRoutes = append(append([]string(nil), routes[1:]...), "<"+d.targetS+">")
			d.strictFor = d.targetS
		}
		ruri, routes = d.strictURI, d.strictRoutes
	}
	// Room for every header a request of the dialog gets (the Via, the
	// Contact, Allow, credentials, the body's): one allocation.
	m := &sipmsg.Message{Method: method, RequestURI: ruri, Headers: make([]sipmsg.Header, 0, len(routes)+16)}
	for _, r := range routes {
		m.Add("Route", r)
	}
	m.Add("Max-Forwards", "70")
	m.Add("From", d.localS)
	m.Add("To", d.remoteS)
	m.Add("Call-ID", d.CallID)
	var cseq [32]byte
	m.Add("CSeq", string(append(append(strconv.AppendUint(cseq[:0], uint64(d.LocalSeq), 10), ' '), method...)))
	return m
}

// NextHop is the URI a request inside the dialog goes to when no outbound
// proxy is set: the first route, else the remote target.
func (d *Dialog) NextHop() sipmsg.URI {
	if len(d.RouteSet) > 0 {
		if r, err := sipmsg.ParseNameAddr(d.RouteSet[0]); err == nil {
			return r.URI
		}
	}
	return d.RemoteTarget
}
