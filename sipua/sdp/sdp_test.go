package sdp

import (
	"errors"
	"reflect"
	"testing"
)

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
			Origin: Origin{"alice", 2890844526, 2890844527}, Host: "192.0.2.10", Port: 49170, Proto: "RTP/AVP",
			Codecs:    []Codec{{8, "PCMA", 8000}, {0, "PCMU", 8000}, {101, "telephone-event", 8000}},
			Ptime:     30,
			Direction: "sendrecv",
		}},
		{"media-c-lf-only", "v=0\no=- 1 2 IN IP6 ::1\ns=x\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\nc=IN IP6 ::1\na=recvonly\n",
			Session{Origin: Origin{"-", 1, 2}, Host: "::1", Port: 4000, Proto: "RTP/AVP", Codecs: []Codec{{0, "PCMU", 8000}}, Direction: "recvonly"}},
		{"rejected", "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n",
			Session{Origin: Origin{"-", 1, 1}, Host: "10.0.0.2", Proto: "RTP/AVP", Codecs: []Codec{{0, "PCMU", 8000}}, Direction: "sendrecv"}},
		{"srtp", "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n",
			Session{Origin: Origin{"-", 1, 1}, Host: "10.0.0.2", Port: 4000, Proto: "RTP/SAVP", Codecs: []Codec{{0, "PCMU", 8000}}, Direction: "sendrecv"}},
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
	for name, in := range map[string]string{
		"empty":    "",
		"no-v":     "o=- 1 1 IN IP4 h\r\n",
		"no-audio": "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 1 RTP/AVP 31\r\n",
		"no-c":     "v=0\r\nm=audio 1 RTP/AVP 0\r\n",
		"bad-pt":   "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 300\r\n",
		"bad-port": "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n",
		"bad-c":    "v=0\r\nc=IN IP4\r\nm=audio 1 RTP/AVP 0\r\n",
		"bad-line": "v=0\r\nxyz\r\n",
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	s := Session{Origin: Origin{"phone", 7, 8}, Host: "10.0.2.15", Port: 10000, Proto: "RTP/AVP",
		Codecs: []Codec{{0, "PCMU", 8000}, {8, "PCMA", 8000}}, Ptime: 20, Direction: "sendrecv"}
	want := "v=0\r\no=phone 7 8 IN IP4 10.0.2.15\r\ns=-\r\nc=IN IP4 10.0.2.15\r\nt=0 0\r\n" +
		"m=audio 10000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n"
	if got := string(s.Marshal()); got != want {
		t.Fatalf("Marshal:\n%q\nwant\n%q", got, want)
	}
	back, err := Parse(s.Marshal())
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

func TestAnswer(t *testing.T) {
	o, _ := Parse([]byte(offer))
	pcmu, _ := StaticCodec("pcmu")
	pcma, _ := StaticCodec("PCMA")
	local := func(cs ...Codec) Session {
		return Session{Host: "10.0.2.15", Port: 10002, Codecs: cs, Ptime: 20}
	}
	for _, tc := range []struct {
		name    string
		offer   Session
		local   Session
		codec   string
		dir     string
		wantErr bool
	}{
		{"local order wins", o, local(pcmu, pcma), "PCMU", "sendrecv", false},
		{"pcma first", o, local(pcma, pcmu), "PCMA", "sendrecv", false},
		{"none", o, local(Codec{18, "G729", 8000}), "", "", true},
		{"sendonly offer", func() Session { x := o; x.Direction = "sendonly"; return x }(), local(pcma), "PCMA", "recvonly", false},
		{"inactive offer", func() Session { x := o; x.Direction = "inactive"; return x }(), local(pcma), "PCMA", "inactive", false},
		{"rejected", func() Session { x := o; x.Port = 0; return x }(), local(pcmu), "", "", true},
	} {
		a, err := Answer(tc.offer, tc.local)
		if tc.wantErr {
			if !errors.Is(err, ErrNoCommonCodec) {
				t.Errorf("%s: err %v", tc.name, err)
			}
			continue
		}
		if err != nil || len(a.Codecs) != 1 || a.Codecs[0].Name != tc.codec || a.Direction != tc.dir || a.Port != 10002 || a.Ptime != 20 {
			t.Errorf("%s: %+v %v", tc.name, a, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(offer))
	f.Add(Session{Host: "::1", Port: 1, Codecs: []Codec{{0, "PCMU", 8000}}}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		s2, err := Parse(s.Marshal())
		if err != nil {
			t.Fatalf("marshalled session does not parse: %v\n%q", err, s.Marshal())
		}
		if s2.Port != s.Port || len(s2.Codecs) != len(s.Codecs) {
			t.Fatalf("round trip changed %+v -> %+v", s, s2)
		}
	})
}

func TestMarshalAllocs(t *testing.T) {
	s := Session{Origin: Origin{SessionID: 1, Version: 2}, Host: "192.0.2.1", Port: 4000, Ptime: 20,
		Codecs: []Codec{{0, "PCMU", 8000}, {8, "PCMA", 8000}, {101, "telephone-event", 8000}}}
	if n := testing.AllocsPerRun(100, func() { _ = s.Marshal() }); n > 1 {
		t.Fatalf("Marshal: %v allocations, want at most 1", n)
	}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { _ = s.AppendTo(buf[:0]) }); n != 0 {
		t.Fatalf("AppendTo: %v allocations", n)
	}
	want := "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
	if got := string(s.Marshal()); got != want {
		t.Fatalf("Marshal:\n%q\nwant\n%q", got, want)
	}
}
