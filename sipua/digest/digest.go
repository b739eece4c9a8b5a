package digest

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// ErrUnsupported is returned for a challenge this package cannot answer
// (another scheme or algorithm, or no qop it knows).
var ErrUnsupported = errors.New("digest: unsupported challenge")

// Algorithms this package answers and issues (RFC 7616 section 6.1, RFC
// 8760 for SIP), each also as its "-sess" variant, in order of strength.
const (
	MD5       = "MD5"
	SHA256    = "SHA-256"
	SHA512256 = "SHA-512-256"
)

// algorithm is one supported algorithm: its hash and its strength (higher
// is stronger).
type algorithm struct {
	name     string // canonical spelling, without -sess
	strength int
	sum      func([]byte) []byte
}

var algorithms = []algorithm{
	{MD5, 1, func(b []byte) []byte { h := md5.Sum(b); return h[:] }},
	{SHA256, 2, func(b []byte) []byte { h := sha256.Sum256(b); return h[:] }},
	{SHA512256, 3, func(b []byte) []byte { h := sha512.Sum512_256(b); return h[:] }},
}

// lookupAlgorithm finds an algorithm by name, case-insensitively; "" is MD5
// (RFC 2617 section 3.2.1). sess reports the "-sess" variant.
func lookupAlgorithm(name string) (a algorithm, sess, ok bool) {
	if name == "" {
		return algorithms[0], false, true
	}
	base := name
	if len(name) > 5 && strings.EqualFold(name[len(name)-5:], "-sess") {
		base, sess = name[:len(name)-5], true
	}
	for _, a := range algorithms {
		if strings.EqualFold(a.name, base) {
			return a, sess, true
		}
	}
	return algorithm{}, false, false
}

// canonical spells a supported algorithm name the standard way ("" stays "").
func canonical(name string) string {
	a, sess, ok := lookupAlgorithm(name)
	if !ok || name == "" {
		return name
	}
	if sess {
		return a.name + "-sess"
	}
	return a.name
}

// Challenge is a parsed Digest challenge.
type Challenge struct {
	Realm, Nonce, Opaque string
	Algorithm            string // "MD5", "SHA-256", "SHA-512-256", each maybe with "-sess"; "" is MD5
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
	if _, _, ok := lookupAlgorithm(c.Algorithm); !ok {
		return Challenge{}, fmt.Errorf("%w: algorithm %.20q", ErrUnsupported, c.Algorithm)
	}
	c.Algorithm = canonical(c.Algorithm)
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
	if c.Qop == "" && strings.HasSuffix(c.Algorithm, "-sess") {
		// -sess needs a cnonce, which only qop carries (RFC 7616 3.4.2).
		return Challenge{}, fmt.Errorf("%w: %s without qop", ErrUnsupported, c.Algorithm)
	}
	return c, nil
}

// Strength ranks the challenge's algorithm: 1 for MD5, 2 for SHA-256, 3
// for SHA-512-256 (a -sess variant ranks as its hash), 0 if unsupported.
func (c Challenge) Strength() int {
	a, _, ok := lookupAlgorithm(c.Algorithm)
	if !ok {
		return 0
	}
	return a.strength
}

// Choose parses several challenges of one response (its WWW-Authenticate or
// Proxy-Authenticate values, in order) and returns the one with the
// strongest algorithm this package supports; between equals the topmost
// (RFC 8760 section 2.4 leaves the choice to local policy: the strongest).
// It fails only if none is usable, with the first challenge's error.
func Choose(values []string) (Challenge, error) {
	var best Challenge
	var firstErr error
	found := false
	for _, v := range values {
		c, err := ParseChallenge(v)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if !found || c.Strength() > best.Strength() {
			best, found = c, true
		}
	}
	if !found {
		if firstErr == nil {
			firstErr = errors.New("digest: no challenge")
		}
		return Challenge{}, firstErr
	}
	return best, nil
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// response computes request-digest (RFC 2617 section 3.2.2.1, RFC 7616
// section 3.4.1 for the other hashes and -sess) with algorithm alg.
func response(alg, user, realm, password, method, uri, nonce, qop, nc, cnonce string) string {
	a, sess, ok := lookupAlgorithm(alg)
	if !ok {
		return ""
	}
	h := func(s string) string { return hex.EncodeToString(a.sum([]byte(s))) }
	ha1 := h(user + ":" + realm + ":" + password)
	if sess {
		ha1 = h(ha1 + ":" + nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	if qop == "" {
		return h(ha1 + ":" + nonce + ":" + ha2)
	}
	return h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2)
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
	fmt.Fprintf(&b, `, response="%s"`, response(c.Algorithm, user, c.Realm, password, method, uri, c.Nonce, c.Qop, ncs, cnonce))
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
	return NewChallengeAlg(realm, MD5)
}

// NewChallengeAlg is NewChallenge with another algorithm (MD5, SHA256 or
// SHA512256); an unsupported one panics.
func NewChallengeAlg(realm, alg string) Challenge {
	if _, _, ok := lookupAlgorithm(alg); !ok || alg == "" {
		panic("digest: NewChallengeAlg: unsupported algorithm " + alg)
	}
	return Challenge{Realm: realm, Nonce: randHex(16), Algorithm: canonical(alg), Qop: "auth", nc: &ncCounter{}}
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
	if _, _, ok := lookupAlgorithm(c.Algorithm); !ok {
		return Credentials{}, fmt.Errorf("%w: algorithm %.20q", ErrUnsupported, c.Algorithm)
	}
	if c.Qop == "" && len(c.Algorithm) > 5 && strings.EqualFold(c.Algorithm[len(c.Algorithm)-5:], "-sess") {
		return Credentials{}, fmt.Errorf("%w: %s without qop", ErrUnsupported, c.Algorithm)
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
	want := response(c.Algorithm, c.Username, c.Realm, password, method, c.URI, c.Nonce, c.Qop, c.NC, c.CNonce)
	return want != "" && len(want) == len(c.Response) && strings.EqualFold(want, c.Response)
}
