package sipmsg

// The URI and address scanners as they were before scanURIView (a URI
// struct returned through scanURI, ScanURI and ScanNameAddr in turn), kept
// as the reference for FuzzScanRef: the one-pass scanners must read what
// these read and fail where these fail, with the same error.

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

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
	h, p, err := splitHostPort(hostport)
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
		ps, err := parseParams(params)
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
	if err := eachParam(params, nil); err != nil {
		return URIView{}, err
	}
	return URIView{Scheme: u.Scheme, User: u.User, Password: u.Password, Host: u.Host, Port: u.Port,
		Params: params, Headers: u.Headers, Opaque: u.Opaque}, nil
}

func refScanNameAddr(s string) (AddrView, error) {
	disp, _, uriStr, params, err := scanNameAddr(s)
	if err != nil {
		return AddrView{}, err
	}
	u, err := refScanURI(uriStr)
	if err != nil {
		return AddrView{}, err
	}
	if err := eachParam(params, nil); err != nil {
		return AddrView{}, err
	}
	return AddrView{Display: disp, URI: u, Params: params}, nil
}

// FuzzScanRef is differential: ScanURI, ParseURI, checkURI, ScanNameAddr
// and scanAddr's tag read what the reference scanners above read, and fail
// with the same error.
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
		var b AddrView
		tag, err := scanAddr(s, &b)
		same(t, "scanAddr", err, rerr)
		if err == nil && (b != ra || tag != ra.Tag()) {
			t.Fatalf("scanAddr %+v tag %q, reference %+v tag %q", b, tag, ra, ra.Tag())
		}
	})
}
