package sipbench

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/sipua/sdp"
	psdp "github.com/pion/sdp/v3"
)

// offerFile is the offer both SDP comparisons answer: a PBX's (Asterisk's)
// audio and video, two m-lines. It is the offer of sipua/sdp's own
// BenchmarkParseAnswer, read from that package's testdata and sent with
// CRLF line ends, as a PBX sends it.
var offerFile = filepath.Join("..", "..", "sipua", "sdp", "testdata", "offers", "asterisk-video.sdp")

func loadOffer(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(offerFile)
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n", "\r\n"))
}

// phoneCaps is the phone's local session as the UA offers it: PCMU, PCMA
// and telephone-event at 20 ms.
func phoneCaps() sdp.Session {
	pcmu, _ := sdp.StaticCodec("PCMU")
	pcma, _ := sdp.StaticCodec("PCMA")
	return sdp.Session{Origin: sdp.Origin{User: "-", SessionID: 42, Version: 1}, Host: "10.0.2.15", Direction: "sendrecv",
		Media: []sdp.Media{{Type: "audio", Port: 10000, Proto: "RTP/AVP", Ptime: 20,
			Codecs: []sdp.Codec{pcmu, pcma, {PT: 101, Name: "telephone-event", Rate: 8000, Fmtp: "0-16"}}}}}
}

// ownAnswer is what the UA does with an offer: parse, answer, write.
func ownAnswer(offer []byte, local sdp.Session, buf []byte) ([]byte, error) {
	o, err := sdp.Parse(offer)
	if err != nil {
		return nil, err
	}
	a, err := sdp.Answer(o, local)
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
		return nil, sdp.ErrNotAcceptable
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
	c, _ := sdp.StaticCodec(map[int]string{0: "PCMU", 8: "PCMA"}[pt])
	am.WithCodec(uint8(pt), c.Name, 8000, 0, "")
	if te != "" {
		tpt, _ := strconv.Atoi(te)
		am.WithCodec(uint8(tpt), "telephone-event", 8000, 0, "0-16")
	}
	am.WithValueAttribute("ptime", "20").WithPropertyAttribute(dir)
	return am, true
}

// TestPionAnswerAgrees: the two answers the SDP benchmarks compare say the
// same (their m-lines, as sipua/sdp writes them).
func TestPionAnswerAgrees(t *testing.T) {
	offer := loadOffer(t)
	own, err := ownAnswer(offer, phoneCaps(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pion, err := pionAnswer(offer)
	if err != nil {
		t.Fatal(err)
	}
	o, err := sdp.Parse(own)
	if err != nil {
		t.Fatalf("own answer: %v\n%s", err, own)
	}
	p, err := sdp.Parse(pion)
	if err != nil {
		t.Fatalf("pion answer: %v\n%s", err, pion)
	}
	if !bytes.Equal(sdp.Session{Media: p.Media}.Marshal(), sdp.Session{Media: o.Media}.Marshal()) {
		t.Fatalf("answers differ:\nown\n%s\npion\n%s", own, pion)
	}
}

// BenchmarkParseAnswer compares, in one run, what an incoming INVITE's
// offer costs: parse, answer and write the answer of a two-m-line offer,
// with sipua/sdp and with pion/sdp/v3 (sipua/sdp's doc.go says which was
// chosen and why).
func BenchmarkParseAnswer(b *testing.B) {
	offer := loadOffer(b)
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

// BenchmarkParseSDP is the parse of the same offer alone, both ways.
func BenchmarkParseSDP(b *testing.B) {
	offer := loadOffer(b)
	b.Run("own", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sdp.Parse(offer); err != nil {
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
