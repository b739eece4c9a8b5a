package sipua

import (
	"strings"

	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

// The checks of RFC 3261 8.2 a request passes before it is dispatched
// (handleRequest): the Request-URI's scheme (8.2.2.1, 416), then Require
// (8.2.2.3, 420, in ua.go), then the body's type and encoding (8.2.3,
// 415). Only methods the UA handles (allowHeader) are checked: others get
// their 501 (8.2.1). ACKs never come here (a UAS never answers an ACK:
// receive gives them to handleAck), nor do CANCELs, which follow their
// INVITE (9.2). RFC 4475 sections 3.3.2, 3.3.3 and 3.3.6 are the torture
// cases (unkscm, novelsc, invut).

// bodyTypes is what each method's body may be (Accept, 20.1); a method
// missing here carries no body the UA reads, so its body is not checked.
// NOTIFY is left alone: PBXs label message summaries loosely, and the
// reader of application/simple-message-summary takes what it understands.
var bodyTypes = map[string]string{
	"INVITE":  "application/sdp", // initial and re-INVITE (RFC 3264)
	"MESSAGE": "text/plain",      // RFC 3428 (message.go checks the charset)
}

// readsBody lists the methods whose bodies the UA reads, and so must be
// able to decode (Content-Encoding, 20.12).
func readsBody(method string) bool {
	return method == "INVITE" || method == "MESSAGE" || method == "NOTIFY"
}

// badScheme answers 416 Unsupported URI Scheme (8.2.2.1) to a request whose
// Request-URI is neither sip: nor sips: (the phone has no other address),
// and reports whether it did.
func (ua *UA) badScheme(srv *transaction.Server, m *sipmsg.Message) bool {
	if !hasTag(allowHeader, m.Method) {
		return false
	}
	scheme, _, _ := strings.Cut(m.RequestURI, ":")
	if strings.EqualFold(scheme, "sip") || strings.EqualFold(scheme, "sips") {
		return false
	}
	ua.logf("sipua: 416 to %s with Request-URI scheme %.20q", m.Method, scheme)
	ua.respond(srv, 416, "", func(r *sipmsg.Message) { addToTag(r, sipmsg.NewTag()) })
	return true
}

// insecureSIPS answers 416 Unsupported URI Scheme to a request with a
// sips: Request-URI that did not come over TLS (the caller checked) and
// reports whether it did: sips means TLS on every hop (RFC 3261 section
// 26.2.2), and one that arrives over UDP or TCP has lost that on the way.
func (ua *UA) insecureSIPS(srv *transaction.Server, m *sipmsg.Message) bool {
	scheme, _, _ := strings.Cut(m.RequestURI, ":")
	if !strings.EqualFold(scheme, "sips") {
		return false
	}
	ua.logf("sipua: 416 to %s with a sips Request-URI not over TLS", m.Method)
	ua.respond(srv, 416, "", func(r *sipmsg.Message) { addToTag(r, sipmsg.NewTag()) })
	return true
}

// badBody answers a request whose body the UA cannot read (8.2.3): 415
// Unsupported Media Type with Accept for a type the method does not take,
// with Accept-Encoding for a Content-Encoding other than identity; 400
// for a body without a Content-Type (20.15). It reports whether it did.
func (ua *UA) badBody(srv *transaction.Server, m *sipmsg.Message) bool {
	if len(m.Body) == 0 || !readsBody(m.Method) {
		return false
	}
	accept, typed := bodyTypes[m.Method]
	ct := m.Get("Content-Type")
	if typed && strings.TrimSpace(ct) == "" {
		ua.logf("sipua: 400 to %s: a body without Content-Type", m.Method)
		ua.respond(srv, 400, "Missing Content-Type", func(r *sipmsg.Message) { addToTag(r, sipmsg.NewTag()) })
		return true
	}
	badType := typed && !strings.EqualFold(mediaType(ct), accept)
	badEnc := !identityEncoding(m)
	if !badType && !badEnc {
		return false
	}
	ua.logf("sipua: 415 to %s with Content-Type %.40q, Content-Encoding %.20q", m.Method, ct, m.Get("Content-Encoding"))
	ua.respond(srv, 415, "", func(r *sipmsg.Message) {
		addToTag(r, sipmsg.NewTag())
		if badType {
			r.Add("Accept", accept)
		}
		if badEnc {
			r.Add("Accept-Encoding", acceptEncodingHeader)
		}
	})
	return true
}

// mediaType is the type/subtype of a Content-Type value, without
// parameters or white space ("text/plain;charset=UTF-8" -> "text/plain").
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	t, sub, _ := strings.Cut(ct, "/")
	return strings.TrimSpace(t) + "/" + strings.TrimSpace(sub)
}

// identityEncoding reports whether every Content-Encoding of m is identity
// (or there is none): the UA decodes no other (20.12).
func identityEncoding(m *sipmsg.Message) bool {
	for _, e := range m.GetAll("Content-Encoding") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "identity") {
			return false
		}
	}
	return true
}

// param is the value of parameter name in a header value's parameters
// ("text/plain; charset=\"utf-8\"", "charset" -> "utf-8"), "" if none.
func param(v, name string) string {
	parts := strings.Split(v, ";")
	for _, p := range parts[1:] {
		n, val, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(n), name) {
			return strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return ""
}
