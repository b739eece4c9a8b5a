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

// algorithm is one supported algorithm: its name and its strength (higher
// is stronger).
type algorithm struct {
	name     string // canonical spelling, without -sess
	strength int
}

var algorithms = []algorithm{{MD5, 1}, {SHA256, 2}, {SHA512256, 3}}

// hexSum appends the hash of b in lower-case hex to dst. A switch rather
// than a function in the table: direct calls let the hashes stay on the stack.
func (a algorithm) hexSum(dst, b []byte) []byte {
	switch a.strength {
	case 2:
		h := sha256.Sum256(b)
		return hex.AppendEncode(dst, h[:])
	case 3:
		h := sha512.Sum512_256(b)
		return hex.AppendEncode(dst, h[:])
	}
	h := md5.Sum(b)
	return hex.AppendEncode(dst, h[:])
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
		key := strings.TrimSpace(rest[:eq])
		if !isToken(key) {
			return nil, fmt.Errorf("digest: bad parameter name in %.60q", v)
		}
		key = strings.ToLower(key)
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

// ParseChallenge parses a WWW-Authenticate or Proxy-Authenticate value:
// one challenge (RFC 3261 section 25.1 allows one per header field;
// SplitChallenges separates several that a sender put in one anyway).
func ParseChallenge(headerValue string) (Challenge, error) {
	c, err := parseChallenge(headerValue)
	if err != nil {
		return Challenge{}, err
	}
	return c, nil
}

// parseChallenge is ParseChallenge, keeping what it parsed (the realm) when
// it fails after the parameters parsed.
func parseChallenge(headerValue string) (Challenge, error) {
	p, err := parseParams(headerValue)
	if err != nil {
		return Challenge{}, err
	}
	c := Challenge{Realm: p["realm"], Nonce: p["nonce"], Opaque: p["opaque"], Algorithm: p["algorithm"],
		Stale: strings.EqualFold(p["stale"], "true"), nc: &ncCounter{}}
	if c.Nonce == "" {
		return c, fmt.Errorf("digest: challenge without nonce")
	}
	if _, _, ok := lookupAlgorithm(c.Algorithm); !ok {
		return c, fmt.Errorf("%w: algorithm %.20q", ErrUnsupported, c.Algorithm)
	}
	c.Algorithm = canonical(c.Algorithm)
	if q, ok := p["qop"]; ok {
		for _, o := range strings.Split(q, ",") {
			if strings.EqualFold(strings.TrimSpace(o), "auth") {
				c.Qop = "auth"
			}
		}
		if c.Qop == "" {
			return c, fmt.Errorf("%w: qop %.20q", ErrUnsupported, q)
		}
	}
	if c.Qop == "" && strings.HasSuffix(c.Algorithm, "-sess") {
		// -sess needs a cnonce, which only qop carries (RFC 7616 3.4.2).
		return c, fmt.Errorf("%w: %s without qop", ErrUnsupported, c.Algorithm)
	}
	return c, nil
}

// SplitChallenges splits a header value into its challenges. RFC 3261's
// grammar (section 25.1) has one challenge per WWW-Authenticate or
// Proxy-Authenticate header field, HTTP's (RFC 7235 section 4.1) a comma
// list of them: a comma outside quotes followed by a token and a space, not
// by "=", starts the next challenge (`Digest realm="a", ..., Digest
// realm="b", ...`). The parts are trimmed substrings of v.
func SplitChallenges(v string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',' && startsChallenge(v[i+1:]):
			if s := strings.TrimSpace(v[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// startsChallenge reports whether s (what follows a comma) begins with an
// auth-scheme: a token followed by white space and then not "=", or by
// nothing (RFC 7235 section 2.1: auth-param = token BWS "=" ...).
func startsChallenge(s string) bool {
	s = strings.TrimLeft(s, " \t")
	n := 0
	for n < len(s) && tchar(s[n]) {
		n++
	}
	if n == 0 {
		return false
	}
	rest := s[n:]
	if rest == "" || rest[0] == ',' {
		return true // a scheme without parameters
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return false
	}
	rest = strings.TrimLeft(rest, " \t")
	return rest == "" || rest[0] != '='
}

// tchar reports whether b is a token character (RFC 7230 section 3.2.6).
func tchar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar(s[i]) {
			return false
		}
	}
	return true
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
// Proxy-Authenticate values, in order, each maybe holding several as
// SplitChallenges splits them) and returns the one with the strongest
// algorithm this package supports; between equals the topmost (RFC 8760
// section 2.4 leaves the choice to local policy: the strongest). It fails
// only if none is usable, with the first challenge's error. Choose looks
// at neither realms nor kinds of header: Client does.
func Choose(values []string) (Challenge, error) {
	var best Challenge
	var firstErr error
	found := false
	for _, hv := range values {
		for _, v := range SplitChallenges(hv) {
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

// maxHex is the longest hex digest: SHA-256's and SHA-512-256's.
const maxHex = 64

// appendHA1 appends H(user:realm:password) in hex to dst (RFC 7616
// section 3.4.2, before -sess); tmp is scratch space, returned (maybe grown).
func appendHA1(dst, tmp []byte, a algorithm, user, realm, password string) ([]byte, []byte) {
	tmp = append(tmp[:0], user...)
	tmp = append(append(tmp, ':'), realm...)
	tmp = append(append(tmp, ':'), password...)
	return a.hexSum(dst, tmp), tmp
}

// appendResponse appends request-digest in hex to dst (RFC 2617 section
// 3.2.2.1, RFC 7616 section 3.4.1 for the other hashes and -sess); ha1 is
// appendHA1's, nc and cnonce are used only with qop. tmp is scratch space,
// returned (maybe grown). It allocates nothing when dst and tmp have room.
func appendResponse(dst, tmp []byte, a algorithm, sess bool, ha1 []byte, method, uri, nonce, qop string, nc, cnonce []byte) ([]byte, []byte) {
	var h1, h2 [maxHex]byte
	if sess {
		tmp = append(append(tmp[:0], ha1...), ':')
		tmp = append(append(append(tmp, nonce...), ':'), cnonce...)
		ha1 = a.hexSum(h1[:0], tmp)
	}
	tmp = append(append(append(tmp[:0], method...), ':'), uri...)
	ha2 := a.hexSum(h2[:0], tmp)
	tmp = append(append(tmp[:0], ha1...), ':')
	tmp = append(tmp, nonce...)
	if qop != "" {
		tmp = append(append(tmp, ':'), nc...)
		tmp = append(append(tmp, ':'), cnonce...)
		tmp = append(append(tmp, ':'), qop...)
	}
	tmp = append(append(tmp, ':'), ha2...)
	return a.hexSum(dst, tmp), tmp
}

// response computes request-digest with algorithm alg ("" if unsupported).
func response(alg, user, realm, password, method, uri, nonce, qop, nc, cnonce string) string {
	a, sess, ok := lookupAlgorithm(alg)
	if !ok {
		return ""
	}
	var ha1b [maxHex]byte
	ha1, tmp := appendHA1(ha1b[:0], nil, a, user, realm, password)
	out, _ := appendResponse(nil, tmp, a, sess, ha1, method, uri, nonce, qop, []byte(nc), []byte(cnonce))
	return string(out)
}

// appendNC appends a nonce count as RFC 7616 section 3.4 spells it: 8 hex digits.
func appendNC(dst []byte, nc uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, digits[nc>>uint(shift)&0xf])
	}
	return dst
}

// appendCredentials appends the Authorization/Proxy-Authorization value
// answering c (RFC 7616 section 3.4): response is appendResponse's, nc
// and cnonce are written only with qop.
func appendCredentials(dst []byte, c *Challenge, user, uri string, response, nc, cnonce []byte) []byte {
	dst = append(dst, `Digest username="`...)
	dst = appendQuoted(dst, user)
	dst = append(dst, `", realm="`...)
	dst = appendQuoted(dst, c.Realm)
	dst = append(dst, `", nonce="`...)
	dst = appendQuoted(dst, c.Nonce)
	dst = append(dst, `", uri="`...)
	dst = appendQuoted(dst, uri)
	dst = append(dst, `", response="`...)
	dst = append(dst, response...)
	dst = append(dst, '"')
	if c.Algorithm != "" {
		dst = append(append(dst, ", algorithm="...), c.Algorithm...)
	}
	if c.Opaque != "" {
		dst = append(dst, `, opaque="`...)
		dst = append(appendQuoted(dst, c.Opaque), '"')
	}
	if c.Qop != "" {
		dst = append(append(dst, ", qop="...), c.Qop...)
		dst = append(append(dst, ", nc="...), nc...)
		dst = append(dst, `, cnonce="`...)
		dst = append(appendQuoted(dst, cnonce), '"')
	}
	return dst
}

// appendQuoted appends s escaped for a quoted-string (RFC 3261 section 25.1).
func appendQuoted[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return dst
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Authorize returns the Authorization (or Proxy-Authorization) value for a
// request. With qop=auth each call uses the next nonce count for this
// challenge's nonce (copies of a Challenge share the count) and a fresh
// cnonce. Client does this for a whole account, choosing the challenges.
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
	a, sess, ok := lookupAlgorithm(c.Algorithm)
	if !ok {
		a = algorithms[0] // a hand-made Challenge: answered as MD5, and Verify refuses it
	}
	var ha1b, respb [maxHex]byte
	var ncb [8]byte
	ha1, tmp := appendHA1(ha1b[:0], nil, a, user, c.Realm, password)
	ncs := appendNC(ncb[:0], nc)
	resp, _ := appendResponse(respb[:0], tmp, a, sess, ha1, method, uri, c.Nonce, c.Qop, ncs, []byte(cnonce))
	return string(appendCredentials(nil, &c, user, uri, resp, ncs, []byte(cnonce)))
}

func quote(s string) string {
	return string(appendQuoted(nil, s))
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
