package sipmsg

import (
	"errors"
	"testing"
)

func TestParseDiversion(t *testing.T) {
	ds, err := ParseDiversion([]string{
		`<sip:1003@pbx.example.com>;reason=no-answer;counter=1, "Bob" <sip:1002@pbx.example.com>;reason="User-Busy"`,
		`<tel:+4930123>;reason=unconditional`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 || ds[0].URI.User != "1003" || ds[0].Reason != "no-answer" || ds[0].Counter != 1 ||
		ds[1].URI.User != "1002" || ds[1].Reason != "user-busy" || ds[2].Reason != "unconditional" {
		t.Fatalf("%+v", ds)
	}
	for _, bad := range []string{`<sip:1002@pbx>;counter=x`, `<sip:1002@pbx`, `"unterminated <sip:1@h>`} {
		if _, err := ParseDiversion([]string{bad}); err == nil {
			t.Errorf("ParseDiversion(%q) took it", bad)
		}
	}
}

func TestParseHistoryInfo(t *testing.T) {
	hs, err := ParseHistoryInfo([]string{
		`<sip:1002@pbx.example.com>;index=1, <sip:8000@pbx.example.com;cause=480>;index=1.1;mp=1`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].URI.User != "1002" || hs[0].Index != "1" || hs[1].URI.User != "8000" ||
		hs[1].Cause != 480 || hs[1].Mapped != "1" || hs[1].Index != "1.1" {
		t.Fatalf("%+v", hs)
	}
	for _, bad := range []string{
		`<sip:1002@pbx>`,                   // no index
		`<sip:1002@pbx>;index=1..2`,        // not an hi-index
		`<sip:1002@pbx;cause=99>;index=1`,  // not a status
		`<sip:1002@pbx;cause=abc>;index=1`, // not a number
	} {
		_, err := ParseHistoryInfo([]string{bad})
		if err == nil {
			t.Errorf("ParseHistoryInfo(%q) took it", bad)
		}
	}
	if _, err := ParseHistoryInfo([]string{`<sip:1002@pbx>;index=1.`}); !errors.Is(err, ErrMalformed) {
		t.Errorf("error %v does not wrap ErrMalformed", err)
	}
}

// FuzzDiversion: the two retargeting parsers never panic, and what they
// take has the shape they promise (hi-indexes, causes, counters in range).
func FuzzDiversion(f *testing.F) {
	f.Add(`<sip:1002@pbx.example.com>;index=1, <sip:8000@pbx.example.com;cause=480>;index=1.1;mp=1`)
	f.Add(`<sip:1003@pbx>;reason=no-answer;counter=1, "Bob" <sip:1002@pbx>;reason=user-busy`)
	f.Add(`<tel:+4930123>;reason=unconditional`)
	f.Add(`<sip:a@b;cause=302>;index=1.2.3;rc=1.2`)
	f.Fuzz(func(t *testing.T, v string) {
		if hs, err := ParseHistoryInfo([]string{v}); err == nil {
			for _, h := range hs {
				if !validIndex(h.Index) || h.Cause != 0 && (h.Cause < 100 || h.Cause > 699) {
					t.Fatalf("took %+v", h)
				}
			}
		}
		if ds, err := ParseDiversion([]string{v}); err == nil {
			for _, d := range ds {
				if d.Counter < 0 || d.Counter > 1000 {
					t.Fatalf("took %+v", d)
				}
			}
		}
	})
}
