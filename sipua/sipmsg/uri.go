package sipmsg

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Param is one ;name=value parameter; Value "" is a flag parameter (;lr).
type Param struct{ Name, Value string }

// URI is a SIP or SIPS URI (RFC 3261 section 19.1). Other schemes keep
// everything after the colon in Opaque.
type URI struct {
	Scheme, User, Password, Host string // Host without [] for IPv6
	Port                         int    // 0 = not given
	Params                       []Param
	Headers                      string // after '?', raw
	Opaque                       string // non-SIP schemes: the rest after "scheme:"
}

// ParseURI parses a URI. sip: and sips: are parsed into their parts; other
// schemes (tel:, ...) are kept whole in Opaque.
func ParseURI(s string) (URI, error) {
	var v URIView
	if err := scanURIParts(s, &v); err != nil {
		return URI{}, err
	}
	u := URI{Scheme: v.Scheme, User: v.User, Password: v.Password, Host: v.Host, Port: v.Port,
		Headers: v.Headers, Opaque: v.Opaque}
	if v.Params != "" {
		ps, err := parseParams(v.Params)
		if err != nil {
			return URI{}, err
		}
		u.Params = ps
	}
	return u, nil
}

// checkURI reports whether ParseURI would accept s, without allocating.
func checkURI(s string) error {
	var u URIView
	return scanURIView(s, &u)
}

// scanURIView scans s into u as ParseURI reads it, its parameters checked
// and kept as written: ScanURI's work, written in place (a URI passed back
// through the callers is a copy each). It allocates only for errors; on
// one, u holds what was scanned so far, for the caller to drop.
func scanURIView(s string, u *URIView) error {
	if err := scanURIParts(s, u); err != nil {
		return err
	}
	return eachParam(u.Params, nil)
}

// scanURIParts is scanURIView without the check of the parameters, which
// it leaves in u.Params unread (";..." or ""). It allocates only for errors.
func scanURIParts(s string, u *URIView) error {
	if !trimmed(s) {
		s = strings.TrimSpace(s)
	}
	var scheme, rest string
	ok := true
	if strings.HasPrefix(s, "sip:") { // nearly every URI: what cutByte finds
		scheme, rest = s[:3], s[4:]
	} else if scheme, rest, ok = cutByte(s, ':'); !ok || scheme == "" || !isToken(scheme) {
		return fmt.Errorf("sipmsg: bad URI %.60q", s)
	}
	switch {
	case scheme == "sip" || scheme == "sips":
		u.Scheme = scheme
	case strings.EqualFold(scheme, "sip"):
		u.Scheme = "sip"
	case strings.EqualFold(scheme, "sips"):
		u.Scheme = "sips"
	default:
		if rest == "" {
			return fmt.Errorf("sipmsg: bad URI %.60q", s)
		}
		u.Scheme = scheme
		u.Opaque = rest
		return nil
	}
	// userinfo may hold '?', ';' and ':' (RFC 3261 section 25.1: user-unreserved);
	// after the host, the parameters run from the first ';', the headers
	// from the first '?' (which ends the parameters).
	at := strings.LastIndexByte(rest, '@')
	hostport := rest[at+1:]
	if i := indexByte2(hostport, ';', '?'); i >= 0 {
		if hostport[i] == '?' {
			u.Headers, hostport = hostport[i+1:], hostport[:i]
		} else {
			if q := strings.IndexByte(hostport[i:], '?'); q >= 0 {
				u.Headers, hostport = hostport[i+q+1:], hostport[:i+q]
			}
			hostport, u.Params = hostport[:i], hostport[i:]
		}
	}
	if at >= 0 {
		u.User, u.Password, _ = cutByte(rest[:at], ':')
		if u.User == "" {
			return fmt.Errorf("sipmsg: empty user in URI %.60q", s)
		}
	}
	h, p, err := splitHostPort(hostport)
	if err != nil {
		return err
	}
	u.Host, u.Port = h, p
	return nil
}

func splitHostPort(hp string) (string, int, error) {
	if hp == "" {
		return "", 0, fmt.Errorf("sipmsg: empty host")
	}
	var host, port string
	if hp[0] == '[' {
		i := strings.IndexByte(hp, ']')
		if i < 0 {
			return "", 0, fmt.Errorf("sipmsg: bad IPv6 reference %.60q", hp)
		}
		host = hp[1:i]
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() || a.Zone() != "" {
			return "", 0, fmt.Errorf("sipmsg: bad IPv6 reference %.60q", hp)
		}
		rest := hp[i+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", 0, fmt.Errorf("sipmsg: bad host %.60q", hp)
			}
			port = rest[1:]
		}
	} else {
		var ok bool
		host, port, ok = cutByte(hp, ':')
		if ok && port == "" {
			return "", 0, fmt.Errorf("sipmsg: empty port in %.60q", hp)
		}
	}
	if host == "" {
		return "", 0, fmt.Errorf("sipmsg: empty host")
	}
	for i := 0; i < len(host); i++ {
		if badHostChar[host[i]] {
			return "", 0, fmt.Errorf("sipmsg: bad host %.60q", host)
		}
	}
	if port == "" {
		return host, 0, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("sipmsg: bad port %.20q", port)
	}
	return host, n, nil
}

func joinHostPort(host string, port int) string {
	if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	if port == 0 {
		return host
	}
	return host + ":" + strconv.Itoa(port)
}

// scanQuoted returns the index of the first ';' outside quotes in s, or len(s).
func scanQuoted(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ';':
			return i
		}
	}
	return len(s)
}

// parseParams parses ";a=b;c;..." (the leading ';' required, whitespace
// around names and '=' tolerated, quoted values kept with their quotes).
func parseParams(s string) ([]Param, error) {
	var out []Param
	err := eachParam(s, func(n, v string) { out = append(out, Param{n, v}) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// The byte classes of a parameter list, for scanParams' one pass.
const (
	paramToken = iota
	paramSemi
	paramQuote
	paramEq
	paramOther
)

var paramClass = func() (t [256]uint8) {
	for i := range t {
		t[i] = paramOther
		if tokenChar[i] {
			t[i] = paramToken
		}
	}
	t[';'], t['"'], t['='] = paramSemi, paramQuote, paramEq
	return t
}()

// eachParam calls fn (if not nil) with each parameter of ";a=b;c;...", in
// order; it allocates only for errors.
func eachParam(s string, fn func(name, value string)) error {
	_, err := scanParams(s, "", fn)
	return err
}

// scanParams is eachParam that also returns the value of the first
// parameter named want (case-insensitive; "" when want is "", absent or a
// flag), as paramValue finds it: the check and the look-up a user agent
// makes next (a From or To tag) in one pass.
func scanParams(s, want string, fn func(name, value string)) (wanted string, err error) {
	if s == "" {
		return "", nil
	}
	first, found := true, want == ""
	for {
		// The next segment, up to a ';' outside quotes, and its first '=':
		// the name byte by byte up to the '=' (names are short), the value
		// a word at a time up to a ';' or '"' (a scan a time for each of
		// ';', '"' and '=' costs more than the bytes). tok: the name (all
		// of the segment when it has no '=') is token bytes only, so it
		// needs neither trimming nor checking.
		end, eq, tok := len(s), -1, true
	seg:
		for i := 0; i < len(s); i++ {
			switch paramClass[s[i]] {
			case paramToken:
			case paramSemi:
				end = i
				break seg
			case paramQuote: // in the name, or with no '=' before it
				end = scanQuoted(s)
				eq, tok = strings.IndexByte(s[:end], '='), false
				break seg
			case paramEq:
				// The value runs to a ';', or is quoted (scanQuoted finds
				// its end).
				eq = i
				if j := indexByte2(s[i+1:], ';', '"'); j >= 0 {
					if end = i + 1 + j; s[end] == '"' {
						end = scanQuoted(s)
					}
				}
				break seg
			default:
				tok = false
			}
		}
		seg := s[:end]
		if first {
			if seg != "" && strings.TrimSpace(seg) != "" {
				return "", fmt.Errorf("sipmsg: parameters must start with ';': %.60q", s)
			}
			first = false
		} else {
			var n, v string
			switch {
			case tok && eq > 0:
				if n, v = seg[:eq], seg[eq+1:]; !trimmed(v) {
					v = strings.TrimSpace(v)
				}
				goto named
			case tok && eq < 0 && end > 0:
				n = seg
				goto named
			}
			if eq < 0 {
				if n = seg; !trimmed(n) {
					n = strings.TrimSpace(n)
				}
				if n == "" {
					return "", fmt.Errorf("sipmsg: empty parameter in %.60q", s)
				}
			} else {
				if n, v = seg[:eq], seg[eq+1:]; !trimmed(n) {
					n = strings.TrimSpace(n)
				}
				if !trimmed(v) {
					v = strings.TrimSpace(v)
				}
			}
			if !isToken(n) {
				return "", fmt.Errorf("sipmsg: bad parameter %.40q", strings.TrimSpace(seg))
			}
		named:
			if !found && len(n) == len(want) && strings.EqualFold(n, want) {
				wanted, found = v, true
			}
			if fn != nil {
				fn(n, v)
			}
		}
		if end == len(s) {
			return wanted, nil
		}
		s = s[end+1:]
	}
}

func appendParams(b []byte, ps []Param) []byte {
	for _, p := range ps {
		b = append(b, ';')
		b = append(b, p.Name...)
		if p.Value != "" {
			b = append(b, '=')
			b = append(b, p.Value...)
		}
	}
	return b
}

func getParam(ps []Param, name string) (string, bool) {
	for _, p := range ps {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

func setParam(ps []Param, name, value string) []Param {
	for i, p := range ps {
		if strings.EqualFold(p.Name, name) {
			ps[i].Value = value
			return ps
		}
	}
	return append(ps, Param{name, value})
}

// String returns the URI's text form.
func (u URI) String() string {
	if u.Opaque != "" {
		return u.Scheme + ":" + u.Opaque
	}
	b := make([]byte, 0, 64)
	b = append(b, u.Scheme...)
	b = append(b, ':')
	if u.User != "" {
		b = append(b, u.User...)
		if u.Password != "" {
			b = append(b, ':')
			b = append(b, u.Password...)
		}
		b = append(b, '@')
	}
	b = append(b, joinHostPort(u.Host, u.Port)...)
	b = appendParams(b, u.Params)
	if u.Headers != "" {
		b = append(b, '?')
		b = append(b, u.Headers...)
	}
	return string(b)
}

// Param returns the value of a URI parameter (name case-insensitive) and
// whether it is present.
func (u URI) Param(name string) (string, bool) { return getParam(u.Params, name) }

// HostPort returns host[:port], IPv6 addresses in [].
func (u URI) HostPort() string { return joinHostPort(u.Host, u.Port) }

// NameAddr is a name-addr or addr-spec with header parameters, as in From,
// To, Contact, Route and Record-Route (RFC 3261 section 20.10).
type NameAddr struct {
	Display string // unquoted display name; "" = none
	URI     URI
	Params  []Param // header parameters (tag, expires, ...), after the URI
}

// ParseNameAddr parses `"Display" <uri>;params`, `Display <uri>;params` or
// `uri;params` (where the parameters belong to the header, not the URI).
func ParseNameAddr(s string) (NameAddr, error) {
	disp, quoted, uriStr, params, err := scanNameAddr(s)
	if err != nil {
		return NameAddr{}, err
	}
	var n NameAddr
	if quoted && strings.IndexByte(disp, '\\') >= 0 {
		var d strings.Builder
		for i := 0; i < len(disp); i++ {
			if disp[i] == '\\' && i+1 < len(disp) {
				i++
			}
			d.WriteByte(disp[i])
		}
		disp = d.String()
	}
	n.Display = disp
	u, err := ParseURI(uriStr)
	if err != nil {
		return NameAddr{}, err
	}
	n.URI = u
	if params != "" {
		ps, err := parseParams(params)
		if err != nil {
			return NameAddr{}, err
		}
		n.Params = ps
	}
	return n, nil
}

// checkNameAddr reports whether ParseNameAddr would accept s, without allocating.
func checkNameAddr(s string) error {
	_, _, uriStr, params, err := scanNameAddr(s)
	if err != nil {
		return err
	}
	if err := checkURI(uriStr); err != nil {
		return err
	}
	return eachParam(params, nil)
}

var badAddrSpecChar = byteSet(" \t?,>")

// scanNameAddr splits a name-addr or addr-spec into its display name (raw:
// still escaped when quoted), the URI text and the header parameters
// (";..." or ""), checking what RFC 4475 section 3.1.2 expects: balanced
// quotes, token display names, no whitespace inside <>, no '?' or ',' in a
// bare addr-spec.
func scanNameAddr(s string) (disp string, quoted bool, uriStr, params string, err error) {
	if !trimmed(s) {
		s = strings.TrimSpace(s)
	}
	lt := -1
	if strings.HasPrefix(s, `"`) {
		i := 1
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
		}
		if i >= len(s) {
			return "", false, "", "", fmt.Errorf("sipmsg: unterminated display name in %.60q", s)
		}
		disp, quoted = s[1:i], true
		rest := trimLeftWS(s[i+1:])
		if !strings.HasPrefix(rest, "<") {
			return "", false, "", "", fmt.Errorf("sipmsg: no <URI> after display name in %.60q", s)
		}
		lt = len(s) - len(rest)
	} else {
		if lt = 0; !strings.HasPrefix(s, "<") {
			lt = strings.IndexByte(s, '<')
		}
		if lt > 0 {
			d := strings.TrimSpace(s[:lt])
			for w := range strings.FieldsSeq(d) {
				if !isToken(w) {
					return "", false, "", "", fmt.Errorf("sipmsg: bad display name %.60q", d)
				}
			}
			disp = d
		}
	}
	if lt >= 0 {
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			return "", false, "", "", fmt.Errorf("sipmsg: unterminated <URI> in %.60q", s)
		}
		uriStr = s[lt+1 : lt+gt]
		if indexByte2(uriStr, ' ', '\t') >= 0 {
			return "", false, "", "", fmt.Errorf("sipmsg: whitespace in <URI> in %.60q", s)
		}
		if params = s[lt+gt+1:]; !trimmed(params) {
			params = strings.TrimSpace(params)
		}
	} else {
		uriStr = s
		if i := strings.IndexByte(s, ';'); i >= 0 {
			uriStr, params = strings.TrimRight(s[:i], " \t"), s[i:]
		}
		if hasAny(uriStr, &badAddrSpecChar) {
			return "", false, "", "", fmt.Errorf("sipmsg: bad addr-spec %.60q", s)
		}
	}
	if params != "" && params[0] != ';' {
		return "", false, "", "", fmt.Errorf("sipmsg: junk after URI in %.60q", s)
	}
	return disp, quoted, uriStr, params, nil
}

// String returns the name-addr form, always with <>.
func (n NameAddr) String() string {
	b := make([]byte, 0, 96)
	if n.Display != "" {
		b = append(b, '"')
		for i := 0; i < len(n.Display); i++ {
			if c := n.Display[i]; c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, n.Display[i])
		}
		b = append(b, `" `...)
	}
	b = append(b, '<')
	b = append(b, n.URI.String()...)
	b = append(b, '>')
	b = appendParams(b, n.Params)
	return string(b)
}

// Param returns a header parameter (tag, expires, ...) and whether it is present.
func (n NameAddr) Param(name string) (string, bool) { return getParam(n.Params, name) }

// SetParam sets a header parameter, replacing one of the same name.
func (n *NameAddr) SetParam(name, value string) { n.Params = setParam(n.Params, name, value) }

// Via is one Via value (RFC 3261 section 20.42).
type Via struct {
	Transport string // "UDP", "TCP", ...
	Host      string // without [] for IPv6
	Port      int    // 0 = not given
	Params    []Param
}

// ParseVia parses one Via element such as "SIP/2.0/UDP host:port;branch=z9hG4bK..".
func ParseVia(s string) (Via, error) {
	transport, hp, params, err := scanVia(s)
	if err != nil {
		return Via{}, err
	}
	v := Via{Transport: strings.ToUpper(transport)}
	if params != "" {
		ps, err := parseParams(params)
		if err != nil {
			return Via{}, err
		}
		v.Params = ps
	}
	h, p, err := splitHostPort(strings.ReplaceAll(hp, " ", ""))
	if err != nil {
		return Via{}, err
	}
	v.Host, v.Port = h, p
	return v, nil
}

// checkVia reports whether ParseVia would accept s, without allocating
// (unless sent-by has whitespace in it).
func checkVia(s string) error {
	_, hp, params, err := scanVia(s)
	if err != nil {
		return err
	}
	if err := eachParam(params, nil); err != nil {
		return err
	}
	if strings.IndexByte(hp, ' ') >= 0 {
		hp = strings.ReplaceAll(hp, " ", "")
	}
	_, _, err = splitHostPort(hp)
	return err
}

// scanVia splits a Via element into its transport (as written), sent-by
// (trimmed, inner spaces kept) and parameters (";..." or "").
func scanVia(s string) (transport, hp, params string, err error) {
	if !trimmed(s) {
		s = strings.TrimSpace(s)
	}
	// sent-protocol: name SLASH version SLASH transport, LWS allowed
	// around '/'; "SIP/2.0/", as nearly every Via has it, is read at once.
	rest, ok := strings.CutPrefix(s, "SIP/2.0/")
	if !ok {
		name, r, ok1 := cutByte(s, '/')
		ver, r, ok2 := cutByte(r, '/')
		if !ok1 || !ok2 || !strings.EqualFold(strings.TrimSpace(name), "SIP") || strings.TrimSpace(ver) != "2.0" {
			return "", "", "", fmt.Errorf("sipmsg: bad Via %.60q", s)
		}
		rest = r
	}
	rest = trimLeftWS(rest)
	i := 0
	for i < len(rest) && !wsChar[rest[i]] {
		i++
	}
	if i == len(rest) {
		i = -1
	}
	if i <= 0 {
		return "", "", "", fmt.Errorf("sipmsg: bad Via %.60q", s)
	}
	transport = rest[:i]
	if !isToken(transport) {
		return "", "", "", fmt.Errorf("sipmsg: bad Via transport %.60q", s)
	}
	rest = strings.TrimSpace(rest[i:])
	hp = rest
	if j := strings.IndexByte(rest, ';'); j >= 0 {
		hp, params = rest[:j], rest[j:]
	}
	return transport, strings.TrimSpace(hp), params, nil
}

// String returns the Via value.
func (v Via) String() string {
	b := make([]byte, 0, 80)
	b = append(b, "SIP/2.0/"...)
	b = append(b, v.Transport...)
	b = append(b, ' ')
	b = append(b, joinHostPort(v.Host, v.Port)...)
	b = appendParams(b, v.Params)
	return string(b)
}

// AppendVia appends the Via value s as ParseVia then Via.String write it,
// with each parameter of set given its value (SetParam: the first of
// that name replaced, else added at the end, in set's order): a server's
// received and rport stamp (RFC 3261 18.2.1, RFC 3581) in one buffer,
// allocating nothing. On an error (what ParseVia refuses) dst is
// returned as it was. set holds at most 8 parameters.
func AppendVia(dst []byte, s string, set ...Param) ([]byte, error) {
	if len(set) > 8 {
		return dst, errViaSet
	}
	transport, hp, params, err := scanVia(s)
	if err != nil {
		return dst, err
	}
	if err := eachParam(params, nil); err != nil {
		return dst, err
	}
	host, port, err := splitHostPort(strings.ReplaceAll(hp, " ", ""))
	if err != nil {
		return dst, err
	}
	b := append(dst, "SIP/2.0/"...)
	for i := 0; i < len(transport); i++ { // a token: ASCII, as strings.ToUpper has it
		c := transport[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	b = append(b, ' ')
	b = appendHostPort(b, host, port)
	var done [8]bool
	_ = eachParam(params, func(n, v string) {
		for i, p := range set {
			if !done[i] && strings.EqualFold(n, p.Name) {
				v, done[i] = p.Value, true
				break
			}
		}
		b = appendParam(b, n, v)
	})
	for i, p := range set {
		if !done[i] {
			b = appendParam(b, p.Name, p.Value)
		}
	}
	return b, nil
}

var errViaSet = errors.New("sipmsg: AppendVia sets at most 8 parameters")

// appendHostPort is joinHostPort appending to b.
func appendHostPort(b []byte, host string, port int) []byte {
	if strings.IndexByte(host, ':') >= 0 {
		b = append(append(append(b, '['), host...), ']')
	} else {
		b = append(b, host...)
	}
	if port != 0 {
		b = strconv.AppendInt(append(b, ':'), int64(port), 10)
	}
	return b
}

// appendParam appends ";name" or ";name=value", as appendParams does.
func appendParam(b []byte, name, value string) []byte {
	b = append(append(b, ';'), name...)
	if value != "" {
		b = append(append(b, '='), value...)
	}
	return b
}

// Param returns a Via parameter (branch, received, rport, ...).
func (v Via) Param(name string) (string, bool) { return getParam(v.Params, name) }

// SetParam sets a Via parameter; value "" makes a flag parameter like rport.
func (v *Via) SetParam(name, value string) { v.Params = setParam(v.Params, name, value) }

// Branch returns the branch parameter, "" if absent.
func (v Via) Branch() string { b, _ := v.Param("branch"); return b }

func trimLeftWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}
