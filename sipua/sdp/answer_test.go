package sdp

import (
	"errors"
	"strings"
	"testing"
)

// phoneCaps is what the UA offers and answers with: G.711 and
// telephone-event (sipua's Media.session).
func phoneCaps() Session {
	pcmu, _ := StaticCodec("PCMU")
	pcma, _ := StaticCodec("PCMA")
	return Session{Origin: Origin{User: "-", SessionID: 42, Version: 1}, Host: "10.0.2.15", Direction: "sendrecv",
		Media: []Media{{Type: "audio", Port: 10000, Proto: "RTP/AVP", Ptime: 20,
			Codecs: []Codec{pcmu, pcma, {PT: 101, Name: "telephone-event", Rate: 8000, Fmtp: "0-16"}}}}}
}

// mlines returns the m= lines of a description.
func mlines(b []byte) []string {
	var out []string
	for _, ln := range strings.Split(string(b), "\r\n") {
		if strings.HasPrefix(ln, "m=") {
			out = append(out, ln)
		}
	}
	return out
}

func mustParse(t *testing.T, s string) Session {
	t.Helper()
	x, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

const head = "v=0\r\no=- 5 5 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"

func TestAnswerRules(t *testing.T) {
	for _, tc := range []struct {
		name, offer string
		want        []string // the answer's m= lines
		audio       int      // the accepted m-line
	}{
		{"audio+video", head + "m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\nm=video 4002 RTP/AVP 99 34\r\na=rtpmap:99 H264/90000\r\n",
			[]string{"m=audio 10000 RTP/AVP 0 101", "m=video 0 RTP/AVP 99"}, 0},
		{"video first", head + "m=video 4002 RTP/AVP 34\r\nm=audio 4000 RTP/AVP 8\r\n",
			[]string{"m=video 0 RTP/AVP 34", "m=audio 10000 RTP/AVP 8"}, 1},
		{"audio+T.38", head + "m=audio 4000 RTP/AVP 8 0\r\nm=image 4004 udptl t38\r\na=T38FaxVersion:0\r\n",
			[]string{"m=audio 10000 RTP/AVP 0", "m=image 0 udptl t38"}, 0},
		{"two audio: first usable", head + "m=audio 4000 RTP/AVP 8\r\nm=audio 4002 RTP/AVP 0\r\n",
			[]string{"m=audio 10000 RTP/AVP 8", "m=audio 0 RTP/AVP 0"}, 0},
		{"two audio: first without G.711", head + "m=audio 4000 RTP/AVP 18\r\nm=audio 4002 RTP/AVP 8 0\r\n",
			[]string{"m=audio 0 RTP/AVP 18", "m=audio 10000 RTP/AVP 0"}, 1},
		{"two audio: SAVP then AVP", head + "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\nm=audio 4002 RTP/AVP 0\r\n",
			[]string{"m=audio 0 RTP/SAVP 0", "m=audio 10000 RTP/AVP 0"}, 1},
		{"refused audio first", head + "m=audio 0 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n",
			[]string{"m=audio 0 RTP/AVP 0", "m=audio 10000 RTP/AVP 0"}, 1},
		{"AVPF as AVP", head + "m=audio 4000 RTP/AVPF 0\r\na=rtcp-fb:* nack\r\n",
			[]string{"m=audio 10000 RTP/AVPF 0"}, 0},
		{"AVP with crypto", head + "m=audio 4000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n",
			[]string{"m=audio 10000 RTP/AVP 0"}, 0},
		{"many", head + "m=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 31\r\nm=application 4004 UDP/BFCP *\r\nm=message 4006 TCP/MSRP *\r\nm=text 4008 RTP/AVP 98\r\n",
			[]string{"m=audio 10000 RTP/AVP 0", "m=video 0 RTP/AVP 31", "m=application 0 UDP/BFCP *", "m=message 0 TCP/MSRP *", "m=text 0 RTP/AVP 98"}, 0},
	} {
		o := mustParse(t, tc.offer)
		a, err := Answer(o, phoneCaps())
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		b := a.Marshal()
		if got := mlines(b); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: m-lines\n got %q\nwant %q", tc.name, got, tc.want)
		}
		back := mustParse(t, string(b))
		for i, m := range back.Media {
			if (i == tc.audio) != (m.Port != 0) {
				t.Errorf("%s: m-line %d port %d", tc.name, i, m.Port)
			}
		}
		if i, err := CheckAnswer(o, back); err != nil || i != tc.audio {
			t.Errorf("%s: CheckAnswer of our own answer: %d %v", tc.name, i, err)
		}
	}
}

func TestAnswerRefused(t *testing.T) {
	for _, tc := range []struct {
		name, offer string
		reason      Reason
		stream      int
	}{
		{"SAVP only", head + "m=audio 4000 RTP/SAVP 0 8\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n", BadProto, 0},
		{"SAVPF only", head + "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", BadProto, 0},
		{"G.729 only", head + "m=audio 4000 RTP/AVP 18\r\n", NoCodec, 0},
		{"G.729 beats SAVP", head + "m=audio 4000 RTP/SAVP 0\r\nm=audio 4002 RTP/AVP 18\r\n", NoCodec, 1},
		{"PCMU at 16 kHz", head + "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n", NoCodec, 0},
		{"telephone-event only", head + "m=audio 4000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n", NoCodec, 0},
		{"video only", head + "m=video 4000 RTP/AVP 31\r\n", NoAudio, -1},
		{"T.38 only", head + "m=image 4000 udptl t38\r\n", NoAudio, -1},
		{"audio refused", head + "m=audio 0 RTP/AVP 0\r\n", NoAudio, -1},
		{"no m-line", head, NoAudio, -1},
		{"TCP RTP", head + "m=audio 4000 TCP/RTP/AVP 0\r\n", BadProto, 0},
	} {
		_, err := Answer(mustParse(t, tc.offer), phoneCaps())
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrNotAcceptable) || errors.Is(err, ErrBadAnswer) ||
			e.Reason != tc.reason || e.Stream != tc.stream || e.Answer {
			t.Errorf("%s: got %v (%+v), want %v on m-line %d", tc.name, err, e, tc.reason, tc.stream)
		}
	}
	_, err := Answer(mustParse(t, head+"m=audio 4000 RTP/SAVP 0\r\n"), phoneCaps())
	if got := err.Error(); got != "sdp: offer: m-line 0: unsupported proto (RTP/SAVP)" {
		t.Errorf("message %q", got)
	}
	if _, err := Answer(mustParse(t, head+"m=audio 4000 RTP/AVP 0\r\n"), Session{}); err == nil {
		t.Error("answered without local audio")
	}
}

func TestAnswerCodecAndDirection(t *testing.T) {
	o := mustParse(t, offer) // PCMA PCMU te/101, ptime 30; video sendonly
	pcmu, _ := StaticCodec("PCMU")
	pcma, _ := StaticCodec("PCMA")
	local := func(cs ...Codec) Session {
		s := phoneCaps()
		s.Media[0].Codecs = cs
		return s
	}
	te := Codec{PT: 96, Name: "telephone-event", Rate: 8000, Fmtp: "0-16"}
	for _, tc := range []struct {
		name   string
		offer  Session
		local  Session
		codecs string // the audio m-line's payload types
		dir    string
	}{
		{"local order wins", o, local(pcmu, pcma, te), "m=audio 10000 RTP/AVP 0 101", "sendrecv"},
		{"pcma first", o, local(pcma, pcmu), "m=audio 10000 RTP/AVP 8", "sendrecv"},
		{"sendonly offer", withDir(o, "sendonly"), local(pcma), "m=audio 10000 RTP/AVP 8", "recvonly"},
		{"recvonly offer", withDir(o, "recvonly"), local(pcma), "m=audio 10000 RTP/AVP 8", "sendonly"},
		{"inactive offer", withDir(o, "inactive"), local(pcma), "m=audio 10000 RTP/AVP 8", "inactive"},
	} {
		a, err := Answer(tc.offer, tc.local)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		b := a.Marshal()
		if got := mlines(b)[0]; got != tc.codecs || a.Direction != tc.dir || a.Media[0].Ptime != 20 ||
			!strings.Contains(string(b), "\r\na="+tc.dir+"\r\nm=video 0 RTP/AVP 31\r\n") {
			t.Errorf("%s:\n%s", tc.name, b)
		}
	}
	// telephone-event takes the offer's payload type and our events.
	a, _ := Answer(o, local(pcmu, te))
	if c := a.Media[0].Codecs; len(c) != 2 || c[1].PT != 101 || c[1].Fmtp != "0-16" {
		t.Errorf("telephone-event %+v", c)
	}
	// No ptime of our own: the offer's.
	l := local(pcmu)
	l.Media[0].Ptime = 0
	if a, _ := Answer(o, l); a.Media[0].Ptime != 30 {
		t.Errorf("ptime %d", a.Media[0].Ptime)
	}
}

func withDir(s Session, dir string) Session {
	s.Media = append([]Media(nil), s.Media...)
	s.Media[0].Direction = dir
	return s
}

func TestCheckAnswer(t *testing.T) {
	ours := phoneCaps()
	two := phoneCaps() // a session whose layout has a refused video line
	two.Media = append(two.Media, Media{Type: "video", Proto: "RTP/AVP", Codecs: []Codec{{PT: 31}}})
	ok := "m=audio 5000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	for _, tc := range []struct {
		name   string
		offer  Session
		answer string
		reason Reason // 0: accepted
		stream int
	}{
		{"ok", ours, head + ok, 0, 0},
		{"ok with video kept", two, head + ok + "m=video 0 RTP/AVP 31\r\n", 0, 0},
		{"video accepted anyway", two, head + ok + "m=video 5002 RTP/AVP 31\r\n", 0, 0},
		{"one line for two", two, head + ok, StreamCount, -1},
		{"two lines for one", ours, head + ok + "m=video 0 RTP/AVP 31\r\n", StreamCount, -1},
		{"no m-line", ours, head, StreamCount, -1},
		{"SAVP for AVP", ours, head + "m=audio 5000 RTP/SAVP 8\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n", BadProto, 0},
		{"AVPF for AVP", ours, head + "m=audio 5000 RTP/AVPF 8\r\n", BadProto, 0},
		{"refused", ours, head + "m=audio 0 RTP/AVP 8\r\n", Refused, 0},
		{"other codec", ours, head + "m=audio 5000 RTP/AVP 18 101\r\na=rtpmap:101 telephone-event/8000\r\n", NoCodec, 0},
		{"type swapped", two, head + "m=video 0 RTP/AVP 31\r\n" + ok, MediaType, 0},
	} {
		i, err := CheckAnswer(tc.offer, mustParse(t, tc.answer))
		if tc.reason == 0 {
			if err != nil || i != tc.stream {
				t.Errorf("%s: %d %v", tc.name, i, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrBadAnswer) || errors.Is(err, ErrNotAcceptable) ||
			e.Reason != tc.reason || e.Stream != tc.stream || !e.Answer || i != -1 {
			t.Errorf("%s: got %d %v (%+v), want %v on m-line %d", tc.name, i, err, e, tc.reason, tc.stream)
		}
	}
	_, err := CheckAnswer(ours, mustParse(t, head+"m=audio 5000 RTP/SAVP 8\r\n"))
	if got := err.Error(); got != "sdp: answer: m-line 0: unsupported proto (RTP/SAVP for RTP/AVP)" {
		t.Errorf("message %q", got)
	}
}

// TestReoffer: after answering audio+video (video refused), a re-offer keeps
// both m-lines in order, the video still with port 0, with the next
// version; and the peer's answer to it is checked against that layout.
func TestReoffer(t *testing.T) {
	o := mustParse(t, head+"m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\nm=video 4002 RTP/AVP 99\r\na=rtpmap:99 H264/90000\r\n")
	a, err := Answer(o, phoneCaps())
	if err != nil {
		t.Fatal(err)
	}
	re := a.Reoffer()
	re.Direction = "sendonly" // hold, RFC 3264 section 8.4
	b := re.Marshal()
	want := "v=0\r\no=- 42 2 IN IP4 10.0.2.15\r\ns=-\r\nc=IN IP4 10.0.2.15\r\nt=0 0\r\n" +
		"m=audio 10000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendonly\r\n" +
		"m=video 0 RTP/AVP 99\r\n"
	if string(b) != want {
		t.Fatalf("re-offer:\n%s\nwant\n%s", b, want)
	}
	if a.Origin.Version != 1 || a.Direction != "sendrecv" {
		t.Errorf("Reoffer changed the answer: %+v", a)
	}
	re.Media[1].Port = 5 // the copy's m-lines are its own
	if a.Media[1].Port != 0 {
		t.Error("Reoffer shares the Media slice")
	}
	re.Media[1].Port = 0
	// The peer answers the re-offer: both lines, audio recvonly.
	ans := mustParse(t, head+"m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=recvonly\r\nm=video 0 RTP/AVP 99\r\n")
	if i, err := CheckAnswer(re, ans); err != nil || i != 0 {
		t.Errorf("CheckAnswer(re-offer): %d %v", i, err)
	}
	// An answer that drops the refused video line is refused.
	if _, err := CheckAnswer(re, mustParse(t, head+"m=audio 4000 RTP/AVP 0\r\n")); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("answer without the video line: %v", err)
	}
	// The peer's own re-offer with the same layout is answered line for line.
	a2, err := Answer(withDir(o, "sendonly"), phoneCaps())
	if err != nil || strings.Join(mlines(a2.Marshal()), "|") != "m=audio 10000 RTP/AVP 0 101|m=video 0 RTP/AVP 99" || a2.Direction != "recvonly" {
		t.Errorf("answer to the re-offer: %v\n%s", err, a2.Marshal())
	}
}
