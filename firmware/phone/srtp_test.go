package phone

import (
	"bytes"
	"testing"

	"github.com/deskphone/deskphone/sipua"
	"github.com/deskphone/deskphone/sipua/sdp"
)

func keys(suite string, l, r byte) *sipua.SRTPKeys {
	return &sipua.SRTPKeys{Suite: suite, Local: bytes.Repeat([]byte{l}, 30), Remote: bytes.Repeat([]byte{r}, 30)}
}

// TestEncryptedCall: an SRTP call runs the engine with its keys, shows the
// lock on the call's display row and says srtp=on in the status; new keys
// from a re-INVITE restart the stream; a plain call shows no lock.
func TestEncryptedCall(t *testing.T) {
	r := newRig(t)
	r.ua.remote = &sipua.Media{Host: "127.0.0.1", Port: 4000, Codecs: []string{"PCMA"}, SRTP: keys(sdp.SuiteSHA1_80, 1, 2)}
	r.p.onSIP(incoming(1, "1002"))
	r.hook(true)
	has(t, r.out.take(), "display 1 "+Lock+"Talking to 1002")
	has(t, r.m.log, "stream 127.0.0.1:4000 PCMA", "srtp AES_CM_128_HMAC_SHA1_80 0101 0202")
	r.p.publish()
	if got := r.p.Status(); got != "reg=1:unregistered phone=connected calls=1 srtp=on" {
		t.Fatalf("status %q", got)
	}
	// The far end's re-INVITE brings new keys: the stream restarts.
	m := *r.ua.remote
	m.SRTP = keys(sdp.SuiteSHA1_32, 3, 4)
	r.m.log = nil
	r.p.onSIP(sipua.Event{Kind: sipua.CallAnswered, Call: 1, Remote: &m})
	has(t, r.m.log, "stop", "stream 127.0.0.1:4000 PCMA", "srtp AES_CM_128_HMAC_SHA1_32 0303 0404")
	// The same again changes nothing.
	r.m.log = nil
	r.p.onSIP(sipua.Event{Kind: sipua.CallAnswered, Call: 1, Remote: &m})
	if len(r.m.log) != 0 {
		t.Fatalf("restarted for nothing: %q", r.m.log)
	}

	plain := newRig(t)
	plain.p.onSIP(incoming(1, "1002"))
	plain.hook(true)
	has(t, plain.out.take(), "display 1 Talking to 1002")
	plain.p.publish()
	if got := plain.p.Status(); got != "reg=1:unregistered phone=connected calls=1" {
		t.Fatalf("status %q", got)
	}
}

// TestReinviteMovesMedia: a far end's re-INVITE to another port (or codec)
// moves the stream there; the engine's source lock then starts again.
func TestReinviteMovesMedia(t *testing.T) {
	r := connected(t)
	m := *r.ua.remote
	m.Port = 4010
	r.m.log = nil
	r.p.onSIP(sipua.Event{Kind: sipua.CallAnswered, Call: 1, Remote: &m})
	has(t, r.m.log, "stop", "stream 127.0.0.1:4010 PCMA")
}
