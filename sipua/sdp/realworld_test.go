package sdp

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/answers from the current Answer")

// TestRealWorld parses the offers in testdata/offers (written after what
// Yealink, Polycom, Cisco, Snom and Linphone phones, Asterisk, FreeSWITCH
// and browsers send) with LF and with CRLF line ends, checks what the model
// keeps, and answers each as the phone does: the answer, or the error,
// is the golden file testdata/answers/NAME.sdp.
func TestRealWorld(t *testing.T) {
	files, _ := filepath.Glob("testdata/offers/*.sdp")
	if len(files) < 10 {
		t.Fatalf("%d offers in testdata/offers", len(files))
	}
	want := map[string]struct {
		types  string // the m-lines' media types and protos
		crypto string // which m-lines have a=crypto ("" none)
	}{
		"asterisk-video":          {"audio RTP/AVP,video RTP/AVP", ""},
		"cisco-8845-bfcp":         {"audio RTP/AVP,video RTP/AVP,application UDP/BFCP", ""},
		"freeswitch-t38":          {"audio RTP/AVP,image udptl", ""},
		"freeswitch-t38-only":     {"image udptl", ""},
		"g729-only":               {"audio RTP/AVP", ""},
		"ipv6-rfc2543-hold":       {"audio RTP/AVP,video RTP/AVP", ""},
		"linphone-avpf":           {"audio RTP/AVPF", ""},
		"polycom-hold":            {"audio RTP/AVP", ""},
		"polycom-vvx-video":       {"audio RTP/AVP,video RTP/AVP", ""},
		"snom-srtp-besteffort":    {"audio RTP/AVP", "0"},
		"two-audio":               {"audio RTP/AVP,audio RTP/AVP,audio RTP/AVP", ""},
		"two-audio-savp-then-avp": {"audio RTP/SAVP,audio RTP/AVP", "0"},
		"webrtc-savpf":            {"audio UDP/TLS/RTP/SAVPF,video UDP/TLS/RTP/SAVPF,application UDP/DTLS/SCTP", ""},
		"yealink-srtp-mandatory":  {"audio RTP/SAVP", "0"},
		"yealink-t46":             {"audio RTP/AVP", ""},
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sdp")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			o, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			crlf, err := Parse([]byte(strings.ReplaceAll(string(b), "\n", "\r\n")))
			if err != nil || string(crlf.Marshal()) != string(o.Marshal()) {
				t.Fatalf("CRLF: %v\n%s", err, crlf.Marshal())
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			var types, crypto []string
			for i, m := range o.Media {
				types = append(types, m.Type+" "+m.Proto)
				if m.HasCrypto() {
					crypto = append(crypto, string(rune('0'+i)))
				}
				if m.Host == "" {
					t.Errorf("m-line %d without an address", i)
				}
			}
			if got := strings.Join(types, ","); got != w.types {
				t.Errorf("m-lines %q, want %q", got, w.types)
			}
			if got := strings.Join(crypto, ","); got != w.crypto {
				t.Errorf("a=crypto on %q, want %q", got, w.crypto)
			}
			// What we read we can write again, and read back the same.
			back, err := Parse(o.Marshal())
			if err != nil || string(back.Marshal()) != string(o.Marshal()) {
				t.Fatalf("re-marshal: %v\n%s", err, o.Marshal())
			}
			var got []byte
			a, err := Answer(o, phoneCaps())
			if err != nil {
				got = []byte("error: " + err.Error() + "\n")
			} else {
				got = a.Marshal()
				if _, err := CheckAnswer(o, mustParse(t, string(got))); err != nil {
					t.Errorf("our answer fails CheckAnswer: %v", err)
				}
			}
			golden := filepath.Join("testdata", "answers", name+".sdp")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			g, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run TestRealWorld -update writes it)", err)
			}
			if string(g) != string(got) {
				t.Errorf("answer:\n%s\nwant (%s):\n%s", got, golden, g)
			}
		})
	}
}
