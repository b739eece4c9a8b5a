package sipmsg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// The views: what a user agent reads from every message (the top Via's
// branch and sent-by, the From and To tags, the Contact's URI), scanned out
// of a header value without parsing it into Via, NameAddr or URI and
// without allocating (except to report a malformed value).
//
// Ownership: every string in a ViaView, AddrView or URIView, and what Tag
// returns, is a view into the value scanned; for a value from a message
// ParseFrom filled, a view into ParseFrom's buffer, valid as long as the
// message is (see ParseFrom). Copy a string (strings.Clone) to keep it.
//
// ParseFrom keeps the views of what it checks anyway (the top Via, From,
// To, the first Contact, CSeq), so that TopVia, Addr, FromTag, ToTag and
// CSeq on a message it filled scan nothing again.
//
// Each Scan function accepts what its Parse function accepts (checked by the
// fuzz targets), with one exception: ScanVia fails on a sent-by with
// whitespace inside its host or port, which ParseVia accepts by removing it
// (a view cannot); whitespace around the colon is fine. Callers that must
// take such a Via parse it with ParseVia when ScanVia fails.

// ViaView is one Via value (RFC 3261 section 20.42) as views into it.
type ViaView struct {
	Transport string // as written: "UDP", "tcp", ... (ParseVia upper-cases it)
	Host      string // without [] for IPv6
	Port      int    // 0 = not given
	Params    string // ";branch=z9hG4bK..;rport" as written, or ""

	// branch is the branch parameter, found as ScanVia checked the
	// parameters; Branch returns it while Params is still scanned, the
	// string it was found in.
	branch, scanned string
}

// errSentBySpace: a sent-by only ParseVia (which copies) can read.
var errSentBySpace = errors.New("sipmsg: whitespace inside Via sent-by (ParseVia reads it)")

// ScanVia scans one Via element such as "SIP/2.0/UDP host:port;branch=z9hG4bK..",
// as ParseVia does, without allocating. See the views' ownership above.
func ScanVia(s string) (ViaView, error) {
	transport, hp, params, err := scanVia(s)
	if err != nil {
		return ViaView{}, err
	}
	branch, err := scanParams(params, "branch", nil)
	if err != nil {
		return ViaView{}, err
	}
	host, port, err := splitSentBy(hp)
	if err != nil {
		return ViaView{}, err
	}
	return ViaView{Transport: transport, Host: host, Port: port, Params: params, branch: branch, scanned: params}, nil
}

// splitSentBy is splitHostPort allowing whitespace around the colon, as
// views; whitespace elsewhere is errSentBySpace.
func splitSentBy(hp string) (string, int, error) {
	if strings.IndexByte(hp, ' ') < 0 {
		return splitHostPort(hp)
	}
	colon := -1
	if hp[0] == '[' {
		if i := strings.IndexByte(hp, ']'); i >= 0 {
			if j := len(hp) - len(strings.TrimLeft(hp[i+1:], " ")); j < len(hp) && hp[j] == ':' {
				colon = j
			}
		}
	} else {
		colon = strings.IndexByte(hp, ':')
	}
	if colon < 0 {
		return "", 0, errSentBySpace
	}
	host, port := strings.TrimRight(hp[:colon], " "), strings.TrimLeft(hp[colon+1:], " ")
	if host == "" || port == "" || strings.IndexByte(host, ' ') >= 0 || strings.IndexByte(port, ' ') >= 0 {
		return "", 0, errSentBySpace
	}
	h, _, err := splitHostPort(host)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("sipmsg: bad port %.20q", port)
	}
	return h, n, nil
}

// Param returns a Via parameter (branch, received, rport, ...; name
// case-insensitive) and whether it is present.
func (v ViaView) Param(name string) (string, bool) { return paramValue(v.Params, name) }

// Branch returns the branch parameter, "" if absent: for a view from
// ScanVia (or TopVia) whose Params is unchanged, the one found as the
// parameters were checked.
func (v ViaView) Branch() string {
	if same(v.Params, v.scanned) {
		return v.branch
	}
	b, _ := v.Param("branch")
	return b
}

// TopVia returns the first Via value of m as ScanVia reads m.Get("Via"):
// views into m's buffer, valid while m is. For a message ParseFrom filled
// it is what ParseFrom scanned while checking the message, not scanned again.
func (m *Message) TopVia() (ViaView, error) {
	if k := m.kept; k != nil && k.via != "" {
		if v, _ := m.lookup("Via"); same(v, k.via) {
			return k.topVia, nil
		}
	}
	return ScanVia(m.Get("Via"))
}

// Addr returns the first value of an address header (From, To, Contact,
// Route, ...) as ScanNameAddr reads m.Get(name); ParseFrom keeps From, To
// and the first Contact as it checks them, so for those it scans nothing.
func (m *Message) Addr(name string) (AddrView, error) {
	canon := CanonicalName(name)
	if a := m.keptAddr(canon); a != nil {
		return *a, nil
	}
	return ScanNameAddr(m.Get(canon))
}

// FromTag returns the From tag, "" if none (Tag of m.Get("From")).
func (m *Message) FromTag() string { return m.tag("From") }

// ToTag returns the To tag, "" if none (Tag of m.Get("To")).
func (m *Message) ToTag() string { return m.tag("To") }

// tag is FromTag and ToTag: the tag ParseFrom kept (found in the same
// pass that checked the parameters) while the header is the one it read.
func (m *Message) tag(canon string) string {
	if k := m.kept; k != nil {
		src, t := k.from, k.fromTag
		if canon == "To" {
			src, t = k.to, k.toTag
		}
		if v, _ := m.lookup(canon); same(v, src) {
			return t
		}
	}
	return Tag(m.Get(canon))
}

// keptAddr returns the view ParseFrom kept of the first header named canon
// (From, To or Contact) while that header's whole value is the one it was
// read from, else nil. For Contact, a list, the view is of its first
// element, which is what Get returns of that same value.
func (m *Message) keptAddr(canon string) *AddrView {
	k := m.kept
	if k == nil {
		return nil
	}
	var src string
	var a *AddrView
	switch canon {
	case "From":
		src, a = k.from, &k.fromAddr
	case "To":
		src, a = k.to, &k.toAddr
	case "Contact":
		src, a = k.contact, &k.contactAddr
	default:
		return nil
	}
	if src == "" {
		return nil
	}
	if v, _ := m.lookup(canon); !same(v, src) {
		return nil
	}
	return a
}

// kept is what ParseFrom scanned while checking a message, each view with
// the whole header value it was read from (the first header of its name;
// for Via and Contact, lists, the view is of the value's first element).
// A view is used only while the first header of that name has that very
// value (same memory, same length): a header set or edited since is
// scanned afresh, and a view never outlives the bytes it was read from
// unless the caller changes the buffer under the message, which
// ParseFrom's ownership rules forbid.
type kept struct {
	via, from, to, contact, cseq string
	topVia                       ViaView
	fromAddr, toAddr             AddrView
	contactAddr                  AddrView
	fromTag, toTag               string
	seq                          uint32
	method                       string
}

// same reports whether a and b are the same string in memory.
func same(a, b string) bool {
	return len(a) == len(b) && len(a) > 0 && unsafe.StringData(a) == unsafe.StringData(b)
}

// keepVia checks a Via header value as checkList(v, checkVia) does,
// keeping its first element's view.
func (m *Message) keepVia(v string) error {
	if v == "" {
		return nil
	}
	elem, rest := nextElem(v)
	vv, err := ScanVia(elem)
	switch {
	case errors.Is(err, errSentBySpace):
		err = checkVia(elem) // ParseVia reads it; no view
	case err == nil:
		m.kept.via, m.kept.topVia = v, vv
	}
	if err != nil {
		return err
	}
	return checkList(rest, checkVia)
}

// keepAddr checks an address as checkNameAddr does, scanning it into a
// (and its tag, when tag is not nil) and keeping hdr, the whole header
// value it is (the first element of), in src. a must be zero.
func keepAddr(v, hdr string, src *string, a *AddrView, tag *string) error {
	t, err := scanAddr(v, a)
	if err != nil {
		*a = AddrView{}
		return err
	}
	*src = hdr
	if tag != nil {
		*tag = t
	}
	return nil
}

// URIView is a URI (RFC 3261 section 19.1) as views into its text.
type URIView struct {
	Scheme, User, Password, Host string // Host without [] for IPv6
	Port                         int    // 0 = not given
	Params                       string // ";transport=udp;lr" as written, or ""
	Headers                      string // after '?', raw
	Opaque                       string // non-SIP schemes: the rest after "scheme:"
}

// ScanURI scans a URI as ParseURI does, without allocating.
func ScanURI(s string) (URIView, error) {
	var u URIView
	if err := scanURIView(s, &u); err != nil {
		return URIView{}, err
	}
	return u, nil
}

// Param returns a URI parameter (name case-insensitive) and whether it is present.
func (u URIView) Param(name string) (string, bool) { return paramValue(u.Params, name) }

// AddrView is a name-addr or addr-spec with header parameters (From, To,
// Contact, Route, Record-Route) as views into its text.
type AddrView struct {
	// Display is the display name as written, without its quotes; escapes
	// (\") are kept (ParseNameAddr removes them).
	Display string
	URI     URIView
	Params  string // header parameters (";tag=..;expires=.."), or ""
}

// ScanNameAddr scans a name-addr or addr-spec as ParseNameAddr does,
// without allocating.
func ScanNameAddr(s string) (AddrView, error) {
	var a AddrView
	if _, err := scanAddr(s, &a); err != nil {
		return AddrView{}, err
	}
	return a, nil
}

// scanAddr is ScanNameAddr written in place (a must be zero; on an error
// it holds what was scanned so far, for the caller to drop), returning
// the tag parameter too ("" if none), found as the parameters are
// checked: one scan of the address, its URI and its parameters.
func scanAddr(s string, a *AddrView) (tag string, err error) {
	disp, _, uriStr, params, err := scanNameAddr(s)
	if err != nil {
		return "", err
	}
	if err := scanURIView(uriStr, &a.URI); err != nil {
		return "", err
	}
	if tag, err = scanParams(params, "tag", nil); err != nil {
		return "", err
	}
	a.Display, a.Params = disp, params
	return tag, nil
}

// Param returns a header parameter (tag, expires, ...; name
// case-insensitive) and whether it is present.
func (a AddrView) Param(name string) (string, bool) { return paramValue(a.Params, name) }

// Tag returns the tag parameter, "" if absent.
func (a AddrView) Tag() string { t, _ := a.Param("tag"); return t }

// Tag returns the tag parameter of a From or To value (the header
// parameter, never one inside the URI), "" when it has none or is not a
// name-addr or addr-spec. It checks the value's shape but not its URI, so
// it is cheaper than ScanNameAddr; the tag is a view into v.
func Tag(v string) string {
	_, _, _, params, err := scanNameAddr(v)
	if err != nil {
		return ""
	}
	t, _ := paramValue(params, "tag")
	return t
}

// paramValue finds a parameter in ";a=b;c;..." (as eachParam reads it:
// quoted values kept with their quotes, whitespace trimmed) by a scan: the
// first of that name (case-insensitive), "" for a flag parameter.
func paramValue(s, name string) (string, bool) {
	first := true
	for s != "" {
		end := strings.IndexByte(s, ';')
		if end < 0 {
			end = len(s)
		}
		if strings.IndexByte(s[:end], '"') >= 0 {
			end = scanQuoted(s)
		}
		if !first {
			n, v, _ := cutByte(s[:end], '=')
			if !trimmed(n) {
				n = strings.TrimSpace(n)
			}
			if len(n) == len(name) && strings.EqualFold(n, name) {
				if !trimmed(v) {
					v = strings.TrimSpace(v)
				}
				return v, true
			}
		}
		first = false
		if end == len(s) {
			break
		}
		s = s[end+1:]
	}
	return "", false
}

// TopTransport is the transport the top Via names, as written ("UDP",
// "tcp", "TLS"), or "" when the top Via cannot be read. It allocates
// nothing but for a sent-by only ParseVia reads (TopVia's one exception).
func (m *Message) TopTransport() string {
	if v, err := m.TopVia(); err == nil {
		return v.Transport
	}
	if v, err := ParseVia(m.Get("Via")); err == nil {
		return v.Transport
	}
	return ""
}
