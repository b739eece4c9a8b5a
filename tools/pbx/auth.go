package pbx

import (
	"net"
	"strconv"

	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// authHeaders names the digest headers of one kind of challenge: the
// registrar's (401, RFC 3261 section 22.2) or the proxy's (407, 22.3).
type authHeaders struct {
	code      int
	challenge string // WWW-Authenticate or Proxy-Authenticate
	creds     string // Authorization or Proxy-Authorization
}

var (
	registrarAuth = authHeaders{401, "WWW-Authenticate", "Authorization"}
	proxyAuth     = authHeaders{407, "Proxy-Authenticate", "Proxy-Authorization"}
)

// authenticate checks req's credentials for user (RFC 2617 digest, MD5,
// qop=auth, on a nonce this PBX issued and that has not expired, with an
// increasing nonce count). When they do not pass it answers req itself
// (401/407 with a fresh challenge, stale=true for an expired or replayed
// nonce, 403 for a wrong user or password) and returns false. On success the
// credentials for the PBX's realm are removed from req.
func (p *PBX) authenticate(req *sipmsg.Message, src *net.UDPAddr, h authHeaders, user string) bool {
	var creds digest.Credentials
	found := false
	for _, v := range req.GetAll(h.creds) {
		c, err := digest.ParseCredentials(v)
		if err != nil {
			p.cfg.Logf("pbx: %s from %s: %v", h.creds, src, err)
			continue
		}
		if c.Realm == p.cfg.Realm {
			creds, found = c, true
			break
		}
	}
	if !found {
		p.challenge(req, src, h, false)
		return false
	}
	now := p.now()
	n, ok := p.st.nonces[creds.Nonce]
	if !ok {
		p.challenge(req, src, h, false)
		return false
	}
	if now.Sub(n.issued) > nonceLifetime {
		p.challenge(req, src, h, true)
		return false
	}
	if creds.Username != user {
		p.cfg.Logf("pbx: %s: digest user %q is not %q", req.Method, creds.Username, user)
		p.respond(req, src, 403, "Forbidden", nil)
		return false
	}
	pw := p.cfg.Users[user]
	if !creds.Verify(req.Method, pw) {
		p.cfg.Logf("pbx: %s: wrong password for %q", req.Method, user)
		p.respond(req, src, 403, "Forbidden", nil)
		return false
	}
	if creds.Qop != "" {
		nc, err := strconv.ParseUint(creds.NC, 16, 64)
		if err != nil || nc <= n.nc {
			// A replayed (or reused) nonce count: ask for a new nonce.
			p.challenge(req, src, h, true)
			return false
		}
		n.nc = nc
	}
	req.Del(h.creds)
	return true
}

// challenge answers req with a fresh nonce.
func (p *PBX) challenge(req *sipmsg.Message, src *net.UDPAddr, h authHeaders, stale bool) {
	c := digest.NewChallenge(p.cfg.Realm)
	c.Stale = stale
	if len(p.st.nonces) >= maxNonces {
		p.evictOldestNonce()
	}
	p.st.nonces[c.Nonce] = &nonce{issued: p.now()}
	reason := "Unauthorized"
	if h.code == 407 {
		reason = "Proxy Authentication Required"
	}
	p.respond(req, src, h.code, reason, func(r *sipmsg.Message) {
		r.Add(h.challenge, c.String())
	})
}

func (p *PBX) evictOldestNonce() {
	var oldest string
	var first bool = true
	var at = p.now()
	for k, n := range p.st.nonces {
		if first || n.issued.Before(at) {
			oldest, at, first = k, n.issued, false
		}
	}
	delete(p.st.nonces, oldest)
}
