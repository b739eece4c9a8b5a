package sdp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// offer is a typical two-m-line offer: G.711 with telephone-event, and a
// video stream with its own c= and direction.
const offer = "v=0\r\n" +
	"o=alice 2890844526 2890844527 IN IP4 atlanta.example.com\r\n" +
	"s=-\r\n" +
	"c=IN IP4 192.0.2.10\r\n" +
	"t=0 0\r\n" +
	"m=audio 49170 RTP/AVP 8 0 101\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-15\r\n" +
	"a=ptime:30\r\n" +
	"m=video 51372 RTP/AVP 31\r\n" +
	"c=IN IP4 192.0.2.99\r\n" +
	"a=sendonly\r\n"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Session
	}{
		{"offer", offer, Session{
			Origin: Origin{User: "alice", SessionID: 2890844526, Version: 2890844527, Addr: "atlanta.example.com"},
			Name:   "-", Host: "192.0.2.10",
			Media: []Media{
				{Type: "audio", Port: 49170, Proto: "RTP/AVP", Host: "192.0.2.10", Ptime: 30, Direction: "sendrecv",
					Codecs: []Codec{{PT: 8, Name: "PCMA", Rate: 8000}, {PT: 0, Name: "PCMU", Rate: 8000}, {PT: 101, Name: "telephone-event", Rate: 8000, Fmtp: "0-15"}}},
				{Type: "video", Port: 51372, Proto: "RTP/AVP", Host: "192.0.2.99", Direction: "sendonly",
					Codecs: []Codec{{PT: 31}}},
			},
		}},
		{"media-c-lf-only", "v=0\no=- 1 2 IN IP6 ::1\ns=x\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\nc=IN IP6 ::1\na=recvonly\n",
			Session{Origin: Origin{"-", 1, 2, "::1"}, Name: "x", Host: "10.0.0.1", Media: []Media{
				{Type: "audio", Port: 4000, Proto: "RTP/AVP", Host: "::1", Direction: "recvonly", Codecs: []Codec{{PT: 0, Name: "PCMU", Rate: 8000}}}}}},
		{"session-direction-and-attrs", "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nb=AS:64\r\nt=0 0\r\na=sendonly\r\na=tool:x\r\n" +
			"m=audio 0 RTP/AVP 0\r\nm=image 5000 udptl t38\r\na=T38FaxVersion:0\r\na=T38FaxFillBitRemoval\r\na=ptime:x\r\n",
			Session{Origin: Origin{"-", 1, 1, "h"}, Name: "-", Host: "10.0.0.2", Bandwidth: []string{"AS:64"}, Direction: "sendonly",
				Attrs: []Attr{{"tool", "x"}}, Media: []Media{
					{Type: "audio", Proto: "RTP/AVP", Host: "10.0.0.2", Direction: "sendonly", Codecs: []Codec{{PT: 0, Name: "PCMU", Rate: 8000}}},
					{Type: "image", Port: 5000, Proto: "udptl", Host: "10.0.0.2", Direction: "sendonly", Formats: []string{"t38"},
						Attrs: []Attr{{"T38FaxVersion", "0"}, {"T38FaxFillBitRemoval", ""}, {"ptime", "x"}}},
				}}},
		{"no-media", "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n",
			Session{Origin: Origin{"-", 1, 1, "h"}, Name: "-"}},
		{"opus-channels-rtpmap-elsewhere", "v=0\nc=IN IP4 1.2.3.4\nm=audio 1/2 RTP/SAVPF 96\na=rtpmap:96 opus/48000/2\na=rtpmap:97 x/8000\na=fmtp:96 stereo=1\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\n",
			Session{Host: "1.2.3.4", Media: []Media{{Type: "audio", Port: 1, PortCount: 2, Proto: "RTP/SAVPF", Host: "1.2.3.4", Direction: "sendrecv",
				Codecs: []Codec{{PT: 96, Name: "opus", Rate: 48000, Channels: 2, Fmtp: "stereo=1"}},
				Attrs:  []Attr{{"rtpmap", "97 x/8000"}, {"crypto", "1 AES_CM_128_HMAC_SHA1_80 inline:x"}}}}}},
	} {
		s, err := Parse([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(s, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, s, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "sdp: empty description"},
		{"blank", "\r\n\r\n", "sdp: empty description"},
		{"no-v", "o=- 1 1 IN IP4 h\r\n", `sdp: line 1: does not start with v=0 "o=- 1 1 IN IP4 h"`},
		{"v1", "v=1\r\n", "does not start with v=0"},
		{"second-v", "v=0\r\nv=0\r\n", "line 2: second v= line"},
		{"no-c", "v=0\r\nm=audio 1 RTP/AVP 0\r\n", "m-line 0 (audio) has no connection address"},
		{"no-c-second", "v=0\r\nm=audio 1 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\nm=video 2 RTP/AVP 31\r\n", "m-line 1 (video) has no connection address"},
		{"bad-pt", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 300\r\n", "bad payload type"},
		{"pt-name", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP PCMU\r\n", "bad payload type"},
		{"bad-port", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n", "bad port"},
		{"big-port", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 65536 RTP/AVP 0\r\n", "bad port"},
		{"neg-port", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio -1 RTP/AVP 0\r\n", "bad port"},
		{"bad-count", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1/0 RTP/AVP 0\r\n", "bad port count"},
		{"short-m", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1\r\n", "bad m= line"},
		{"bad-c", "v=0\r\nc=IN IP4\r\nm=audio 1 RTP/AVP 0\r\n", "bad c= line"},
		{"c-atm", "v=0\r\nc=ATM NSAP x\r\n", "bad c= line"},
		{"bad-o", "v=0\r\no=- x 1 IN IP4 h\r\n", "bad o= line"},
		{"short-o", "v=0\r\no=- 1 1 IN IP4\r\n", "bad o= line"},
		{"bad-t", "v=0\r\nt=now\r\n", "bad t= line"},
		{"bad-b", "v=0\r\nb=64\r\n", "bad b= line"},
		{"bad-line", "v=0\r\nxyz\r\n", `line 2: bad line "xyz"`},
		{"upper", "v=0\r\nA=x\r\n", "bad line"},
		{"unknown-letter", "v=0\r\ny=1\r\n", "unknown type letter"},
		{"bad-rtpmap", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus\r\n", "bad rtpmap"},
		{"rtpmap-pt", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 96\r\na=rtpmap:x opus/1\r\n", "bad rtpmap"},
		{"rtpmap-ch", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus/48000/0\r\n", "bad rtpmap channels"},
		{"attr-name", "v=0\r\na=\r:x\r\n", "bad attribute name"},
		{"o-in-media", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\no=- 1 1 IN IP4 h\r\n", "o= inside an m-line"},
	} {
		_, err := Parse([]byte(tc.in))
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a *ParseError with %q", tc.name, err, tc.want)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	s := Session{Origin: Origin{User: "phone", SessionID: 7, Version: 8}, Host: "10.0.2.15", Direction: "sendrecv",
		Media: []Media{
			{Type: "audio", Port: 10000, Proto: "RTP/AVP", Ptime: 20,
				Codecs: []Codec{{PT: 0, Name: "PCMU", Rate: 8000}, {PT: 8, Name: "PCMA", Rate: 8000}, {PT: 101, Name: "telephone-event", Rate: 8000, Fmtp: "0-16"}}},
			{Type: "video", Proto: "RTP/AVP", Codecs: []Codec{{PT: 31}}},
			{Type: "image", Proto: "udptl", Formats: []string{"t38"}},
			{Type: "audio", Port: 10002, PortCount: 2, Proto: "RTP/AVP", Host: "::1", Direction: "inactive",
				Codecs: []Codec{{PT: 96, Name: "opus", Rate: 48000, Channels: 2}}, Bandwidth: []string{"AS:64"}, Attrs: []Attr{{"rtcp-mux", ""}, {"label", "1"}}},
		}}
	want := "v=0\r\no=phone 7 8 IN IP4 10.0.2.15\r\ns=-\r\nc=IN IP4 10.0.2.15\r\nt=0 0\r\n" +
		"m=audio 10000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n" +
		"m=video 0 RTP/AVP 31\r\n" +
		"m=image 0 udptl t38\r\n" +
		"m=audio 10002/2 RTP/AVP 96\r\nc=IN IP6 ::1\r\nb=AS:64\r\na=rtpmap:96 opus/48000/2\r\na=rtcp-mux\r\na=label:1\r\na=inactive\r\n"
	if got := string(s.Marshal()); got != want {
		t.Fatalf("Marshal:\n%s\nwant\n%s", got, want)
	}
	back, err := Parse(s.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	// Parse resolves each m-line's address and direction.
	s.Origin.Addr, s.Name, s.Direction = "10.0.2.15", "-", ""
	for i, h := range []string{"10.0.2.15", "10.0.2.15", "10.0.2.15", "::1"} {
		s.Media[i].Host = h
	}
	for i, d := range []string{"sendrecv", "sendrecv", "sendrecv", "inactive"} {
		s.Media[i].Direction = d
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, s)
	}
}

func TestHelpers(t *testing.T) {
	for proto, want := range map[string]bool{"RTP/AVP": true, "rtp/avpf": true, "RTP/SAVP": true, "UDP/TLS/RTP/SAVPF": true,
		"TCP/RTP/AVP": true, "udptl": false, "UDP/BFCP": false, "TCP/MSRP": false, "UDP/DTLS/SCTP": false, "XRTP/AVP": false, "": false} {
		if IsRTP(proto) != want {
			t.Errorf("IsRTP(%q) = %v", proto, !want)
		}
	}
	s, err := Parse([]byte("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0 101\r\na=crypto:1 x\r\na=rtpmap:101 telephone-event/8000\r\nm=video 0 RTP/AVP 31\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Media[0].HasCrypto() || s.Media[1].HasCrypto() {
		t.Error("HasCrypto")
	}
	if v, ok := s.Media[0].Attr("crypto"); !ok || v != "1 x" {
		t.Errorf("Attr(crypto) = %q %v", v, ok)
	}
	if te, ok := s.Media[0].TelephoneEvent(); !ok || te.PT != 101 {
		t.Errorf("TelephoneEvent %+v %v", te, ok)
	}
	if c, ok := StaticCodec("pcma"); !ok || c.PT != 8 {
		t.Errorf("StaticCodec %+v %v", c, ok)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(offer))
	f.Add(Session{Host: "::1", Media: []Media{{Type: "audio", Port: 1, Proto: "RTP/AVP", Codecs: []Codec{{PT: 0, Name: "PCMU", Rate: 8000}}}}}.Marshal())
	pcmu, _ := StaticCodec("PCMU")
	local := Session{Host: "10.0.2.15", Media: []Media{{Type: "audio", Port: 10000, Proto: "RTP/AVP", Ptime: 20,
		Codecs: []Codec{pcmu, {PT: 101, Name: "telephone-event", Rate: 8000, Fmtp: "0-16"}}}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			return
		}
		s2, err := Parse(s.Marshal())
		if err != nil {
			t.Fatalf("marshalled session does not parse: %v\n%q", err, s.Marshal())
		}
		// The only changes Marshal makes: the session direction moves onto
		// the m-lines, an empty s= or o= user becomes "-", o= gets
		// an address.
		s.Direction, s2.Direction = "", ""
		if s.Name == "" {
			s.Name = "-"
		}
		if s.Origin.User == "" {
			s.Origin.User = "-"
		}
		s.Origin.Addr = s2.Origin.Addr
		for i := range s.Media {
			if s.Media[i].Port == 0 && i < len(s2.Media) {
				s.Media[i].Direction = s2.Media[i].Direction // not written on a refused line unless its own
			}
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip changed\n%+v\n->\n%+v\n%q", s, s2, s.Marshal())
		}
		a, err := Answer(s, local)
		if err != nil {
			if !errors.Is(err, ErrNotAcceptable) {
				t.Fatalf("Answer error %v is not ErrNotAcceptable", err)
			}
			return
		}
		if len(a.Media) != len(s.Media) {
			t.Fatalf("answer has %d m-lines for %d", len(a.Media), len(s.Media))
		}
		a2, err := Parse(a.Marshal())
		if err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, a.Marshal())
		}
		if _, err := CheckAnswer(s, a2); err != nil {
			t.Fatalf("our answer fails CheckAnswer: %v\n%s\n%s", err, s.Marshal(), a.Marshal())
		}
	})
}

func TestMarshalAllocs(t *testing.T) {
	s, err := Parse([]byte(offer))
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.Marshal() }); n > 1 {
		t.Fatalf("Marshal: %v allocations, want at most 1", n)
	}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { _ = s.AppendTo(buf[:0]) }); n != 0 {
		t.Fatalf("AppendTo: %v allocations", n)
	}
}

func TestParseAnswerAllocs(t *testing.T) {
	b := []byte(offer)
	local := phoneCaps()
	// Parse: the text, the m-lines, one codec pool (no opaque attributes
	// here); Answer: its m-lines and one codec pool.
	if n := testing.AllocsPerRun(100, func() { s, _ := Parse(b); _, _ = Answer(s, local) }); n > 5 {
		t.Fatalf("Parse+Answer: %v allocations, want at most 5", n)
	}
}
