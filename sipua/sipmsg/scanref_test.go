package sipmsg

// The Via, URI and address scanners as they were before scanURIView (a
// URI struct returned through scanURI, ScanURI and ScanNameAddr in turn),
// kept as the reference for FuzzScanRef with param_test.go's eachParamRef:
// the scanners must read what these read and fail where these fail, with
// the same error.

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// refScanNameAddrParts splits a name-addr or addr-spec into its display name (raw:
// still escaped when quoted), the URI text and the header parameters
// (";..." or ""), checking what RFC 4475 section 3.1.2 expects: balanced
// quotes, token display names, no whitespace inside <>, no '?' or ',' in a
// bare addr-spec.
func refScanNameAddrParts(s string) (disp string, quoted bool, uriStr, params string, err error) {
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
		lt = strings.IndexByte(s, '<')
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
		if hasAny(uriStr, &wsChar) {
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

// refScanVia splits a Via element into its transport (as written), sent-by
// (trimmed, inner spaces kept) and parameters (";..." or "").
func refScanVia(s string) (transport, hp, params string, err error) {
	if !trimmed(s) {
		s = strings.TrimSpace(s)
	}
	// sent-protocol: name SLASH version SLASH transport, LWS allowed around '/'.
	name, rest, ok1 := cutByte(s, '/')
	ver, rest, ok2 := cutByte(rest, '/')
	if !ok1 || !ok2 || !strings.EqualFold(strings.TrimSpace(name), "SIP") || strings.TrimSpace(ver) != "2.0" {
		return "", "", "", fmt.Errorf("sipmsg: bad Via %.60q", s)
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

func refSplitHostPort(hp string) (string, int, error) {
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
		c := host[i]
		if c <= ' ' || c >= 0x7f || refBadHostChar[c] {
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

var refBadHostChar = byteSet("<>\"@,;?/\\")

func refScanURIParts(s string) (u URI, params string, err error) {
	if !trimmed(s) {
		s = strings.TrimSpace(s)
	}
	scheme, rest, ok := cutByte(s, ':')
	if !ok || scheme == "" || !isToken(scheme) {
		return URI{}, "", fmt.Errorf("sipmsg: bad URI %.60q", s)
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
			return URI{}, "", fmt.Errorf("sipmsg: bad URI %.60q", s)
		}
		u.Scheme = scheme
		u.Opaque = rest
		return u, "", nil
	}
	at := strings.LastIndexByte(rest, '@')
	if i := strings.IndexByte(rest[at+1:], '?'); i >= 0 {
		u.Headers = rest[at+1+i+1:]
		rest = rest[:at+1+i]
	}
	if at >= 0 {
		ui := rest[:at]
		rest = rest[at+1:]
		u.User, u.Password, _ = cutByte(ui, ':')
		if u.User == "" {
			return URI{}, "", fmt.Errorf("sipmsg: empty user in URI %.60q", s)
		}
	}
	hostport := rest
	if i := strings.IndexByte(rest, ';'); i >= 0 {
		hostport, params = rest[:i], rest[i:]
	}
	h, p, err := refSplitHostPort(hostport)
	if err != nil {
		return URI{}, "", err
	}
	u.Host, u.Port = h, p
	return u, params, nil
}

func refParseURI(s string) (URI, error) {
	u, params, err := refScanURIParts(s)
	if err != nil {
		return URI{}, err
	}
	if params != "" {
		var ps []Param
		err := eachParamRef(params, func(n, v string) { ps = append(ps, Param{n, v}) })
		if err != nil {
			return URI{}, err
		}
		u.Params = ps
	}
	return u, nil
}

func refScanURI(s string) (URIView, error) {
	u, params, err := refScanURIParts(s)
	if err != nil {
		return URIView{}, err
	}
	if err := eachParamRef(params, nil); err != nil {
		return URIView{}, err
	}
	return URIView{Scheme: u.Scheme, User: u.User, Password: u.Password, Host: u.Host, Port: u.Port,
		Params: params, Headers: u.Headers, Opaque: u.Opaque}, nil
}

func refScanNameAddr(s string) (AddrView, error) {
	disp, _, uriStr, params, err := refScanNameAddrParts(s)
	if err != nil {
		return AddrView{}, err
	}
	u, err := refScanURI(uriStr)
	if err != nil {
		return AddrView{}, err
	}
	if err := eachParamRef(params, nil); err != nil {
		return AddrView{}, err
	}
	return AddrView{Display: disp, URI: u, Params: params}, nil
}

// FuzzScanRef is differential: scanVia, splitHostPort, scanParams,
// ScanURI, ParseURI, checkURI, ScanNameAddr and scanAddr's tag read what
// the reference scanners above read, and fail with the same error.
func FuzzScanRef(f *testing.F) {
	for _, s := range []string{
		"sip:alice@atlanta.com", "sips:[2001:db8::1]:5061;transport=tls",
		"sip:alice:secret@atlanta.com:5070;transport=udp;lr?subject=x",
		"tel:+1-201-555-0123", "sip:%61lice@h;x=\"a;b\"", "SIP:10.0.2.2", "sip:@h", "sip:a@h:0",
		`"Alice \"A\"" <sip:alice@a.com>;tag=12`, `Bob <sip:bob@b.com;transport=udp>;expires=60`,
		`sip:carol@c.com;tag=9`, `<sip:p1.example.com;lr>`, `"Mr. J. User <sip:j.user@example.com>`,
		`Bell, Alexander <sip:a.g.bell@example.com>;tag=43`, `"W" < sip:t.watson@example.org >`,
		`<urn:uuid:0000>;+sip.instance="<urn:uuid:1>"`, `<sip:a@h>;x=1; TAG = def ;y`,
		`<sip:a@h;tag=uri>;x="a;tag=b";tag=c`, `<sip:a@h>;tag;tag=2`, `<sip:a@h>;x;;tag=1`,
		";branch=z9hG4bK776asdhds0f3a1c;rport=5060;received=10.0.2.15",
		"SIP/2.0/UDP 10.0.2.15:5060;branch=z9hG4bK1;rport", "SIP / 2.0 / tcp  host.example ; branch=z9hG4bK2",
		"SIP/2.0/UDP [2001:db8::9]:5070", "sip/2.0/UDP h", "SIP/2.0/", "SIP/2.0/ UDP h", "h\x7f:5060", "[::1]:5",
		`;x="a;b";tag=1`, "; tag = 2 ;y",
		`;a=12345678;b="q\"x;y";c`, `;a=1234567890"abc;d";tag=3`, " ;tag=1", ";tag=12345678;",
	} {
		f.Add(s)
	}
	same := func(t *testing.T, what string, err, ref error) {
		t.Helper()
		if (err == nil) != (ref == nil) || err != nil && err.Error() != ref.Error() {
			t.Fatalf("%s: %v, reference: %v", what, err, ref)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr, hp, ps, err := scanVia(s)
		rtr, rhp, rps, rerr := refScanVia(s)
		same(t, "scanVia", err, rerr)
		if tr != rtr || hp != rhp || ps != rps {
			t.Fatalf("scanVia %q %q %q, reference %q %q %q", tr, hp, ps, rtr, rhp, rps)
		}
		h, p, err := splitHostPort(s)
		rh, rp, rerr := refSplitHostPort(s)
		same(t, "splitHostPort", err, rerr)
		if h != rh || p != rp {
			t.Fatalf("splitHostPort %q %d, reference %q %d", h, p, rh, rp)
		}
		u, err := ScanURI(s)
		ru, rerr := refScanURI(s)
		same(t, "ScanURI", err, rerr)
		if u != ru {
			t.Fatalf("ScanURI %+v, reference %+v", u, ru)
		}
		same(t, "checkURI", checkURI(s), rerr)
		pu, err := ParseURI(s)
		rpu, rerr := refParseURI(s)
		same(t, "ParseURI", err, rerr)
		if !reflect.DeepEqual(pu, rpu) {
			t.Fatalf("ParseURI %+v, reference %+v", pu, rpu)
		}
		a, err := ScanNameAddr(s)
		ra, rerr := refScanNameAddr(s)
		same(t, "ScanNameAddr", err, rerr)
		if a != ra {
			t.Fatalf("ScanNameAddr %+v, reference %+v", a, ra)
		}
		var got, want []Param
		wanted, err := scanParams(s, "tag", func(n, v string) { got = append(got, Param{n, v}) })
		rerr = eachParamRef(s, func(n, v string) { want = append(want, Param{n, v}) })
		same(t, "scanParams", err, rerr)
		if tag, _ := paramValue(s, "tag"); err == nil && (!reflect.DeepEqual(got, want) || wanted != tag) {
			t.Fatalf("scanParams %q %v, reference %q %v", wanted, got, tag, want)
		}
		var b AddrView
		tag, err := scanAddr(s, &b)
		_, rerr = refScanNameAddr(s)
		same(t, "scanAddr", err, rerr)
		if err == nil && (b != ra || tag != ra.Tag()) {
			t.Fatalf("scanAddr %+v tag %q, reference %+v tag %q", b, tag, ra, ra.Tag())
		}
	})
}
