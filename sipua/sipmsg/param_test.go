package sipmsg

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// eachParamRef is eachParam as it was before its one-pass scan (a scan
// each for ';', '"' and '='): the reference FuzzEachParam holds it to.
func eachParamRef(s string, fn func(name, value string)) error {
	if s == "" {
		return nil
	}
	first := true
	for {
		// the next segment, up to a ';' outside quotes
		end := strings.IndexByte(s, ';')
		if end < 0 {
			end = len(s)
		}
		if strings.IndexByte(s[:end], '"') >= 0 {
			end = scanQuoted(s)
		}
		p := strings.TrimSpace(s[:end])
		if first {
			if p != "" {
				return fmt.Errorf("sipmsg: parameters must start with ';': %.60q", s)
			}
			first = false
		} else {
			if p == "" {
				return fmt.Errorf("sipmsg: empty parameter in %.60q", s)
			}
			n, v, _ := strings.Cut(p, "=")
			n, v = strings.TrimSpace(n), strings.TrimSpace(v)
			if !isToken(n) {
				return fmt.Errorf("sipmsg: bad parameter %.40q", p)
			}
			if fn != nil {
				fn(n, v)
			}
		}
		if end == len(s) {
			return nil
		}
		s = s[end+1:]
	}
}

// FuzzEachParam: the one-pass eachParam reads every input as the
// reference does: the same parameters, or the same error.
func FuzzEachParam(f *testing.F) {
	for _, s := range []string{
		"", ";", ";a", ";a=b", " ;a = b ; c", ";tag=x;lr", `;a="b;c";d`, `;a="x\"y";b=1`, `x;a`,
		`;"q"=1`, ";a=;b", ";a==b", "; ;", ";a b", ";\u00a0a", ";branch=z9hG4bK;received=1.2.3.4;rport",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want []string
		gerr := eachParam(s, func(n, v string) { got = append(got, n+"\x00"+v) })
		werr := eachParamRef(s, func(n, v string) { want = append(want, n+"\x00"+v) })
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || gerr == nil && !slices.Equal(got, want) {
			t.Fatalf("%q: got %q, %v; the reference %q, %v", s, strings.Join(got, "|"), gerr, strings.Join(want, "|"), werr)
		}
	})
}

// FuzzHeaderName: headerName agrees with the scans it replaced (the colon,
// the name with its trailing spaces and tabs trimmed, no space or tab left
// inside it and not empty).
func FuzzHeaderName(f *testing.F) {
	for _, s := range []string{"Via: x", "Via :x", "V ia: x", " Via: x", ":", "  :", "Via\t \t:", "Via", "a:b:c", "Call-ID:\t1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		colon, name, ok := headerName(line)
		wantColon := bytes.IndexByte(line, ':')
		if colon != wantColon {
			t.Fatalf("%q: colon %d, want %d", line, colon, wantColon)
		}
		if colon <= 0 {
			return
		}
		want := trimRightWS(line[:colon])
		wantOK := len(want) > 0 && bytes.IndexByte(want, ' ') < 0 && bytes.IndexByte(want, '\t') < 0
		if ok != wantOK || ok && !bytes.Equal(name, want) {
			t.Fatalf("%q: name %q ok %v, want %q %v", line, name, ok, want, wantOK)
		}
	})
}
