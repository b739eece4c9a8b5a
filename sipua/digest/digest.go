package digest

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// ErrUnsupported is returned for a challenge this package cannot answer
// (another scheme or algorithm, or no qop it knows).
var ErrUnsupported = errors.New("digest: unsupported challenge")

// Challenge is a parsed Digest challenge.
type Challenge struct {
	Realm, Nonce, Opaque string
	Algorithm            string // "MD5" or "" (MD5)
	Qop                  string // "auth" when offered, else ""
	Stale                bool
	nc                   *ncCounter // shared by copies: nc counts per nonce
}

type ncCounter struct {
	mu sync.Mutex
	n  uint32
}

// Credentials is a parsed Authorization/Proxy-Authorization value.
type Credentials struct {
	Username, Realm, Nonce, URI, Response string
	Algorithm, CNonce, Opaque, Qop, NC    string
}

// parseParams parses `Digest k=v, k="v", ...`.
func parseParams(v string) (map[string]string, error) {
	v = strings.TrimSpace(v)
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return nil, fmt.Errorf("%w: scheme %.20q", ErrUnsupported, scheme)
	}
	out := map[string]string{}
	rest = strings.TrimSpace(rest)
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("digest: bad parameter in %.60q", v)
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			if i >= len(rest) {
				return nil, fmt.Errorf("digest: unterminated quote in %.60q", v)
			}
			val, rest = b.String(), rest[i+1:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:end]), rest[end:]
		}
		out[key] = val
		rest = strings.TrimLeft(rest, " \t")
		if rest != "" {
			if rest[0] != ',' {
				return nil, fmt.Errorf("digest: missing comma in %.60q", v)
			}
			rest = strings.TrimLeft(rest[1:], " \t")
		}
	}
	return out, nil
}

// ParseChallenge parses a WWW-Authenticate or Proxy-Authenticate value.
func ParseChallenge(headerValue string) (Challenge, error) {
	p, err := parseParams(headerValue)
	if err != nil {
		return Challenge{}, err
	}
	c := Challenge{Realm: p["realm"], Nonce: p["nonce"], Opaque: p["opaque"], Algorithm: p["algorithm"],
		Stale: strings.EqualFold(p["stale"], "true"), nc: &ncCounter{}}
	if c.Nonce == "" {
		return Challenge{}, fmt.Errorf("digest: challenge without nonce")
	}
	if c.Algorithm != "" && !strings.EqualFold(c.Algorithm, "MD5") {
		return Challenge{}, fmt.Errorf("%w: algorithm %.20q", ErrUnsupported, c.Algorithm)
	}
	if q, ok := p["qop"]; ok {
		for _, o := range strings.Split(q, ",") {
			if strings.EqualFold(strings.TrimSpace(o), "auth") {
				c.Qop = "auth"
			}
		}
		if c.Qop == "" {
			return Challenge{}, fmt.Errorf("%w: qop %.20q", ErrUnsupported, q)
		}
	}
	return c, nil
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// response computes request-digest (RFC 2617 section 3.2.2.1).
func response(user, realm, password, method, uri, nonce, qop, nc, cnonce string) string {
	ha1 := md5hex(user + ":" + realm + ":" + password)
	ha2 := md5hex(method + ":" + uri)
	if qop == "" {
		return md5hex(ha1 + ":" + nonce + ":" + ha2)
	}
	return md5hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Authorize returns the Authorization (or Proxy-Authorization) value for a
// request. With qop=auth each call uses the next nonce count for this
// challenge's nonce (copies of a Challenge share the count) and a fresh cnonce.
func (c Challenge) Authorize(method, uri, user, password string) string {
	var nc uint32
	if c.Qop != "" {
		if c.nc == nil {
			c.nc = &ncCounter{}
		}
		c.nc.mu.Lock()
		c.nc.n++
		nc = c.nc.n
		c.nc.mu.Unlock()
	}
	return c.AuthorizeWith(method, uri, user, password, randHex(8), nc)
}

// AuthorizeWith is Authorize with the cnonce and nonce count given (tests,
// and callers that keep their own count). Both are ignored without qop.
func (c Challenge) AuthorizeWith(method, uri, user, password, cnonce string, nc uint32) string {
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", uri="%s"`, quote(user), quote(c.Realm), quote(c.Nonce), quote(uri))
	ncs := fmt.Sprintf("%08x", nc)
	if c.Qop == "" {
		cnonce, ncs = "", ""
	}
	fmt.Fprintf(&b, `, response="%s"`, response(user, c.Realm, password, method, uri, c.Nonce, c.Qop, ncs, cnonce))
	if c.Algorithm != "" {
		fmt.Fprintf(&b, `, algorithm=%s`, c.Algorithm)
	}
	if c.Opaque != "" {
		fmt.Fprintf(&b, `, opaque="%s"`, quote(c.Opaque))
	}
	if c.Qop != "" {
		fmt.Fprintf(&b, `, qop=%s, nc=%s, cnonce="%s"`, c.Qop, ncs, quote(cnonce))
	}
	return b.String()
}

func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// NewChallenge returns a server challenge for realm with a fresh random
// nonce, algorithm MD5 and qop auth.
func NewChallenge(realm string) Challenge {
	return Challenge{Realm: realm, Nonce: randHex(16), Algorithm: "MD5", Qop: "auth", nc: &ncCounter{}}
}

// String returns the challenge as a WWW-Authenticate/Proxy-Authenticate value.
func (c Challenge) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, `Digest realm="%s", nonce="%s"`, quote(c.Realm), quote(c.Nonce))
	if c.Opaque != "" {
		fmt.Fprintf(&b, `, opaque="%s"`, quote(c.Opaque))
	}
	if c.Stale {
		b.WriteString(", stale=true")
	}
	if c.Algorithm != "" {
		fmt.Fprintf(&b, ", algorithm=%s", c.Algorithm)
	}
	if c.Qop != "" {
		fmt.Fprintf(&b, `, qop="%s"`, c.Qop)
	}
	return b.String()
}

// ParseCredentials parses an Authorization or Proxy-Authorization value.
func ParseCredentials(headerValue string) (Credentials, error) {
	p, err := parseParams(headerValue)
	if err != nil {
		return Credentials{}, err
	}
	c := Credentials{Username: p["username"], Realm: p["realm"], Nonce: p["nonce"], URI: p["uri"],
		Response: p["response"], Algorithm: p["algorithm"], CNonce: p["cnonce"], Opaque: p["opaque"],
		Qop: p["qop"], NC: p["nc"]}
	if c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "" {
		return Credentials{}, fmt.Errorf("digest: credentials lack username, nonce, uri or response")
	}
	if c.Algorithm != "" && !strings.EqualFold(c.Algorithm, "MD5") {
		return Credentials{}, fmt.Errorf("%w: algorithm %.20q", ErrUnsupported, c.Algorithm)
	}
	if c.Qop != "" && (c.Qop != "auth" || c.NC == "" || c.CNonce == "") {
		return Credentials{}, fmt.Errorf("digest: qop %.20q needs nc and cnonce", c.Qop)
	}
	return c, nil
}

// Verify reports whether the credentials carry the right response for
// method and password. The caller checks that Nonce is one it issued, Realm
// is its realm, and (for replay protection) that NC increases.
func (c Credentials) Verify(method, password string) bool {
	want := response(c.Username, c.Realm, password, method, c.URI, c.Nonce, c.Qop, c.NC, c.CNonce)
	return len(want) == len(c.Response) && strings.EqualFold(want, c.Response)
}
