package sdp

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	psdp "github.com/pion/sdp/v3"
)

// typical is the offer the benchmarks answer: a PBX's (Asterisk's) audio
// and video, two m-lines.
const typical = "v=0\r\n" +
	"o=- 1453296283 1453296285 IN IP4 203.0.113.5\r\n" +
	"s=Asterisk\r\n" +
	"c=IN IP4 203.0.113.5\r\n" +
	"t=0 0\r\n" +
	"m=audio 14286 RTP/AVP 0 8 3 101\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:3 GSM/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-16\r\n" +
	"a=ptime:20\r\n" +
	"a=maxptime:150\r\n" +
	"a=sendrecv\r\n" +
	"m=video 19236 RTP/AVP 99 34\r\n" +
	"a=rtpmap:99 H264/90000\r\n" +
	"a=fmtp:99 packetization-mode=1\r\n" +
	"a=rtpmap:34 H263/90000\r\n" +
	"a=sendrecv\r\n"

// ownAnswer is what the UA does with an offer: parse, answer, write.
func ownAnswer(offer []byte, local Session, buf []byte) ([]byte, error) {
	o, err := Parse(offer)
	if err != nil {
		return nil, err
	}
	a, err := Answer(o, local)
	if err != nil {
		return nil, err
	}
	return a.AppendTo(buf[:0]), nil
}

// pionAnswer does the same with github.com/pion/sdp/v3, answering by the
// same rules (first G.711 audio stream over RTP/AVP(F), the others port 0),
// reading attributes directly rather than through GetCodecForPayloadType's
// map.
func pionAnswer(offer []byte) ([]byte, error) {
	var o psdp.SessionDescription
	if err := o.Unmarshal(offer); err != nil {
		return nil, err
	}
	a := &psdp.SessionDescription{
		Origin: psdp.Origin{Username: "-", SessionID: 42, SessionVersion: 1, NetworkType: "IN",
			AddressType: "IP4", UnicastAddress: "10.0.2.15"},
		SessionName:           "-",
		ConnectionInformation: &psdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4", Address: &psdp.Address{Address: "10.0.2.15"}},
		TimeDescriptions:      []psdp.TimeDescription{{}},
	}
	accepted := false
	for _, md := range o.MediaDescriptions {
		mn := md.MediaName
		proto := strings.Join(mn.Protos, "/")
		if !accepted && mn.Media == "audio" && mn.Port.Value != 0 && (proto == "RTP/AVP" || proto == "RTP/AVPF") {
			if am, ok := pionAccept(md); ok {
				accepted = true
				a.MediaDescriptions = append(a.MediaDescriptions, am)
				continue
			}
		}
		a.MediaDescriptions = append(a.MediaDescriptions, &psdp.MediaDescription{MediaName: psdp.MediaName{
			Media: mn.Media, Port: psdp.RangedPort{Value: 0}, Protos: mn.Protos, Formats: mn.Formats[:1]}})
	}
	if !accepted {
		return nil, ErrNotAcceptable
	}
	return a.Marshal()
}

func pionAccept(md *psdp.MediaDescription) (*psdp.MediaDescription, bool) {
	name := func(f string) string {
		for _, at := range md.Attributes {
			if at.Key == "rtpmap" && strings.HasPrefix(at.Value, f+" ") {
				return strings.ToUpper(at.Value[len(f)+1:])
			}
		}
		switch f {
		case "0":
			return "PCMU/8000"
		case "8":
			return "PCMA/8000"
		}
		return ""
	}
	var codec, te string
	for _, want := range []string{"PCMU/8000", "PCMA/8000"} {
		for _, f := range md.MediaName.Formats {
			if codec == "" && name(f) == want {
				codec = f
			}
		}
	}
	if codec == "" {
		return nil, false
	}
	for _, f := range md.MediaName.Formats {
		if name(f) == "TELEPHONE-EVENT/8000" {
			te = f
		}
	}
	dir := "sendrecv"
	for _, at := range md.Attributes {
		switch at.Key {
		case "sendonly":
			dir = "recvonly"
		case "recvonly":
			dir = "sendonly"
		case "inactive":
			dir = "inactive"
		}
	}
	am := &psdp.MediaDescription{MediaName: psdp.MediaName{Media: "audio", Port: psdp.RangedPort{Value: 10000},
		Protos: md.MediaName.Protos}} // WithCodec adds the formats
	pt, _ := strconv.Atoi(codec)
	c, _ := StaticCodec(map[int]string{0: "PCMU", 8: "PCMA"}[pt])
	am.WithCodec(uint8(pt), c.Name, 8000, 0, "")
	if te != "" {
		tpt, _ := strconv.Atoi(te)
		am.WithCodec(uint8(tpt), "telephone-event", 8000, 0, "0-16")
	}
	am.WithValueAttribute("ptime", "20").WithPropertyAttribute(dir)
	return am, true
}

// TestPionAnswerAgrees: the two answers the benchmark compares say the same.
func TestPionAnswerAgrees(t *testing.T) {
	own, err := ownAnswer([]byte(typical), phoneCaps(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pion, err := pionAnswer([]byte(typical))
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, string(pion))
	o := mustParse(t, string(own))
	if !bytes.Equal(Session{Media: p.Media}.Marshal(), Session{Media: o.Media}.Marshal()) {
		t.Fatalf("answers differ:\nown\n%s\npion\n%s", own, pion)
	}
}

// BenchmarkParseAnswer compares, in one run, what an incoming INVITE's
// offer costs: parse, answer and write the answer of a two-m-line offer,
// with this package and with pion/sdp/v3 (doc.go says which was chosen and
// why). make bench runs it once; -benchtime=1s -benchmem for figures.
func BenchmarkParseAnswer(b *testing.B) {
	offer := []byte(typical)
	b.Run("own", func(b *testing.B) {
		local := phoneCaps()
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ownAnswer(offer, local, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pion", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pionAnswer(offer); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParse is the parse alone, both ways.
func BenchmarkParse(b *testing.B) {
	offer := []byte(typical)
	b.Run("own", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(offer); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pion", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s psdp.SessionDescription
			if err := s.Unmarshal(offer); err != nil {
				b.Fatal(err)
			}
		}
	})
}
