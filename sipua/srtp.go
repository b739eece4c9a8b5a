package sipua

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/deskphone/deskphone/sipua/sdp"
)

// SRTP with SDES key exchange (RFC 3711, RFC 4568): a line's SRTPMode
// says whether its calls offer and accept a=crypto keys. The keys are
// made here (crypto/rand), a fresh one for every offer and answer the
// phone sends (RFC 4568 7.1.4: a new session, a re-INVITE, an offer in a
// 200), and the negotiated pair goes to the firmware in the remote
// Media's SRTP, which the audio engine runs. The keys travel in the SDP
// in the clear, so a line offers them only over TLS (ErrSRTPNeedsTLS).
//
// Optional mode is best-effort SRTP, the form most PBXs and phones take
// (Asterisk's media_encryption_optimistic, FreeSWITCH, baresip's
// "mediaenc srtp", Snom and Yealink's "optional"): the offer stays
// RTP/AVP and carries a=crypto; a peer that answers with a=crypto gets
// SRTP, one that does not gets plain RTP, and Media.Encrypted says which
// (the display's lock). RFC 5939's capability negotiation is not done:
// few PBXs implement it. Answering, optional and required both take
// RTP/SAVP offers and best-effort RTP/AVP ones with keys; required
// answers an offer without a usable key 488 and ends a call whose answer
// has none.

// SRTPMode is how a line protects its calls' media (media.srtp).
type SRTPMode uint8

// SRTP modes.
const (
	// SRTPOff: RTP in the clear; an offer of RTP/SAVP only gets 488.
	SRTPOff SRTPMode = iota
	// SRTPOptional: best-effort SRTP (see above): encrypted when the
	// peer takes the key, plain when it does not.
	SRTPOptional
	// SRTPRequired: offers RTP/SAVP; a plain answer ends the call (BYE,
	// Reason 488), a plain offer gets 488.
	SRTPRequired
)

func (m SRTPMode) String() string {
	switch m {
	case SRTPOff:
		return "off"
	case SRTPOptional:
		return "optional"
	case SRTPRequired:
		return "required"
	}
	return fmt.Sprintf("SRTPMode(%d)", uint8(m))
}

// ParseSRTPMode reads "off", "optional" or "required".
func ParseSRTPMode(s string) (SRTPMode, error) {
	for _, m := range []SRTPMode{SRTPOff, SRTPOptional, SRTPRequired} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("sipua: SRTP mode %q: want off, optional or required", s)
}

// ErrSRTPNeedsTLS: a call of a line with SRTP on would carry its keys over
// a transport other than TLS; it is refused.
var ErrSRTPNeedsTLS = errors.New("sipua: SDES keys travel only over TLS")

// SRTPKeys are a call's negotiated SDES keys.
type SRTPKeys struct {
	Suite string // sdp.SuiteSHA1_80 or sdp.SuiteSHA1_32
	// Local protects what the phone sends, Remote is the far end's key
	// for what it sends; each is the master key then the master salt,
	// sdp.KeySaltLen bytes.
	Local, Remote []byte
}

func (k *SRTPKeys) equal(o *SRTPKeys) bool {
	if k == nil || o == nil {
		return k == o
	}
	return k.Suite == o.Suite && bytes.Equal(k.Local, o.Local) && bytes.Equal(k.Remote, o.Remote)
}

// Encrypted reports whether the stream runs SRTP.
func (m *Media) Encrypted() bool { return m != nil && m.SRTP != nil }

// newKey is a fresh master key and salt from crypto/rand.
func newKey() []byte {
	k := make([]byte, sdp.KeySaltLen)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24)
	return k
}

// offerCryptos are the a=crypto lines of an offer: both suites, in the
// phone's preference, each with its own fresh key.
func offerCryptos() []sdp.Attr {
	return []sdp.Attr{
		{Key: "crypto", Value: sdp.Crypto{Tag: 1, Suite: sdp.SuiteSHA1_80, Key: newKey()}.String()},
		{Key: "crypto", Value: sdp.Crypto{Tag: 2, Suite: sdp.SuiteSHA1_32, Key: newKey()}.String()},
	}
}

// rekey gives every a=crypto line of s's accepted audio stream a fresh
// key (same tag and suite) before s goes out again as an offer, and
// reports whether it had any; s's Media and the changed stream's Attrs
// are copied first, so an earlier description sharing them keeps its
// keys.
func rekey(s *sdp.Session) bool {
	for i := range s.Media {
		m := &s.Media[i]
		if m.Port == 0 || !m.HasCrypto() {
			continue
		}
		s.Media = append([]sdp.Media(nil), s.Media...)
		m = &s.Media[i]
		m.Attrs = append([]sdp.Attr(nil), m.Attrs...)
		for j := range m.Attrs {
			if m.Attrs[j].Key != "crypto" {
				continue
			}
			if c, err := sdp.ParseCrypto(m.Attrs[j].Value); err == nil {
				c.Key = newKey()
				m.Attrs[j].Value = c.String()
			}
		}
		return true
	}
	return false
}

// srtpCheck refuses SRTP over a transport other than TLS.
func srtpCheck(mode SRTPMode, tk tkind, line int) error {
	if mode != SRTPOff && tk != tTLS {
		return fmt.Errorf("%w: line %d's call goes over %s (media.srtp = %v wants line.%d.transport = tls)",
			ErrSRTPNeedsTLS, line, tk.param(), mode, line)
	}
	return nil
}

// cryptoErr is an *sdp.Error about SDES keys.
func cryptoErr(answer bool, stream int, detail string) error {
	return &sdp.Error{Reason: sdp.NoCrypto, Answer: answer, Stream: stream, Detail: detail}
}

// answerKeys takes the keys of the answer am to our offered stream om
// (RFC 4568 7.1.3): nil when we offered none, or when a best-effort
// offer (RTP/AVP) was answered without one; else exactly one a=crypto
// whose tag and suite are one of ours. Anything else is a bad answer (an
// *sdp.Error, ErrBadAnswer): an RTP/SAVP stream cannot run without keys.
func answerKeys(om, am sdp.Media) (*SRTPKeys, error) {
	if !om.HasCrypto() {
		return nil, nil
	}
	if !am.HasCrypto() {
		if sdp.IsSAVP(om.Proto) {
			return nil, cryptoErr(true, -1, "RTP/SAVP answered without a=crypto")
		}
		return nil, nil // best effort, not taken: plain RTP (Encrypted false)
	}
	ours, err := om.Cryptos()
	if err != nil {
		return nil, err
	}
	theirs, err := am.Cryptos()
	if err != nil {
		return nil, cryptoErr(true, -1, err.Error())
	}
	if len(theirs) != 1 {
		return nil, cryptoErr(true, -1, fmt.Sprintf("%d a=crypto lines, want one", len(theirs)))
	}
	t := theirs[0]
	if !t.Usable() {
		return nil, cryptoErr(true, -1, "suite or parameters not offered: "+t.Suite)
	}
	for _, o := range ours {
		if o.Tag == t.Tag && o.Suite == t.Suite {
			return &SRTPKeys{Suite: t.Suite, Local: o.Key, Remote: t.Key}, nil
		}
	}
	return nil, cryptoErr(true, -1, fmt.Sprintf("tag %d %s was not offered", t.Tag, t.Suite))
}

// keyAnswer adds our key to ans, the answer to offer (sdp.Answer), when
// the accepted stream offers one the phone can use and mode is not off,
// and returns the call's keys (nil: plain RTP). The first usable line in
// the offer's order wins (RFC 4568 7.1.2: the answerer picks one);
// malformed lines are passed over. With no usable key an RTP/SAVP stream,
// or any stream in required mode, is not acceptable (an *sdp.Error,
// ErrNotAcceptable: 488).
func keyAnswer(offer sdp.Session, ans *sdp.Session, mode SRTPMode) (*SRTPKeys, error) {
	i := -1
	for j := range ans.Media {
		if ans.Media[j].Port != 0 && j < len(offer.Media) {
			i = j
			break
		}
	}
	if i < 0 {
		return nil, nil // a late offer's own description
	}
	om := offer.Media[i]
	if mode == SRTPOff {
		return nil, nil // sdp.Answer took no RTP/SAVP; a best-effort key is ignored
	}
	var pick *sdp.Crypto
	why := "no a=crypto"
	for _, a := range om.Attrs {
		if a.Key != "crypto" {
			continue
		}
		c, err := sdp.ParseCrypto(a.Value)
		switch {
		case err != nil:
			why = err.Error()
		case !c.Usable():
			why = "no usable suite (" + c.Suite + ")"
		default:
			pick = &c
		}
		if pick != nil {
			break
		}
	}
	if pick == nil {
		if sdp.IsSAVP(om.Proto) || mode == SRTPRequired {
			return nil, cryptoErr(false, i, why)
		}
		return nil, nil
	}
	ours := newKey()
	am := &ans.Media[i]
	am.Attrs = append(am.Attrs[:len(am.Attrs):len(am.Attrs)],
		sdp.Attr{Key: "crypto", Value: sdp.Crypto{Tag: pick.Tag, Suite: pick.Suite, Key: ours}.String()})
	return &SRTPKeys{Suite: pick.Suite, Local: ours, Remote: pick.Key}, nil
}

// localFor is the local audio m-line servable and the answers check an
// offer against: G.711, with a=crypto when mode takes SRTP.
func localFor(mode SRTPMode) sdp.Media {
	if mode == SRTPOff {
		return g711
	}
	m := g711
	m.Attrs = []sdp.Attr{{Key: "crypto", Value: "1 " + sdp.SuiteSHA1_80}}
	return m
}

// srtpServable is servable for a line in mode: with SRTP on, an RTP/SAVP
// stream taken must carry a usable key, and in required mode any stream.
func srtpServable(offer sdp.Session, mode SRTPMode) error {
	local := localFor(mode)
	i, err := sdp.Select(offer, local)
	if err != nil || mode == SRTPOff {
		return err
	}
	ans := sdp.Session{Media: make([]sdp.Media, len(offer.Media))}
	ans.Media[i].Port = 1
	_, err = keyAnswer(offer, &ans, mode)
	return err
}

// srtpText is how a log line says whether a call's media is encrypted.
func srtpText(m *Media) string {
	if m.Encrypted() {
		return "SRTP " + strings.TrimPrefix(m.SRTP.Suite, "AES_CM_128_")
	}
	return "RTP in the clear"
}
