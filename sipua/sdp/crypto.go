package sdp

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// SDES (RFC 4568): the a=crypto attribute carries an SRTP master key in
// the session description,
//
//	a=crypto:<tag> <crypto-suite> inline:<key||salt base64>[|<lifetime>][|<MKI>:<length>] [<session-params>]
//
// ParseCrypto reads the value after "crypto:" strictly (section 9.1's
// grammar); the phone uses the two AES-CM suites of section 6.2 and no
// session parameters, but a well-formed line of another suite, with an
// MKI or with parameters parses, so that the answerer can pass it over
// and take the next (Usable says which it can take).

// Crypto suites the phone does (RFC 4568 6.2.1 and 6.2.2), in its order
// of preference.
const (
	SuiteSHA1_80 = "AES_CM_128_HMAC_SHA1_80"
	SuiteSHA1_32 = "AES_CM_128_HMAC_SHA1_32"
)

// KeySaltLen is the length of the master key and salt of the two AES-CM
// suites together: 128 + 112 bits.
const KeySaltLen = 30

// ErrCrypto is what every *CryptoError is (errors.Is).
var ErrCrypto = errors.New("sdp: bad a=crypto")

// CryptoError says why an a=crypto value is refused.
type CryptoError struct {
	Value string // the attribute value as it came
	Why   string
}

func (e *CryptoError) Error() string {
	return "sdp: bad a=crypto:" + e.Value + ": " + e.Why
}

func (e *CryptoError) Is(target error) bool { return target == ErrCrypto }

// Crypto is one a=crypto attribute.
type Crypto struct {
	Tag   int    // 1 to 999999999, unique within the m-line
	Suite string // as written, e.g. SuiteSHA1_80
	// Key is the decoded key||salt of the first key parameter.
	Key []byte
	// Lifetime is the key's lifetime in packets (the 2^n form expanded);
	// 0: not given.
	Lifetime uint64
	// MKI and MKILen are the master key identifier and its length in
	// bytes; MKILen 0: none.
	MKI, MKILen int
	// Keys is the number of inline key parameters (more than one is
	// legal, with MKIs; the phone takes one).
	Keys int
	// Params are the session parameters as written ("" = none).
	Params string
}

// Usable reports whether the phone can run SRTP with c: one of its two
// suites, one key of the suite's length, no MKI and no session
// parameters (UNENCRYPTED_SRTP, KDR=, FEC_ORDER= and the like change
// what SRTP does, or weaken it).
func (c Crypto) Usable() bool {
	return (c.Suite == SuiteSHA1_80 || c.Suite == SuiteSHA1_32) &&
		len(c.Key) == KeySaltLen && c.Keys == 1 && c.MKILen == 0 && c.Params == ""
}

// String is the attribute value: "<tag> <suite> inline:<key>" (with its
// lifetime and MKI when set, and the session parameters).
func (c Crypto) String() string { return string(c.AppendTo(nil)) }

// AppendTo appends the attribute value to b.
func (c Crypto) AppendTo(b []byte) []byte {
	b = strconv.AppendInt(b, int64(c.Tag), 10)
	b = append(b, ' ')
	b = append(b, c.Suite...)
	b = append(b, " inline:"...)
	b = base64.StdEncoding.AppendEncode(b, c.Key)
	if c.Lifetime != 0 {
		b = append(b, '|')
		b = strconv.AppendUint(b, c.Lifetime, 10)
	}
	if c.MKILen != 0 {
		b = append(b, '|')
		b = strconv.AppendInt(b, int64(c.MKI), 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(c.MKILen), 10)
	}
	if c.Params != "" {
		b = append(b, ' ')
		b = append(b, c.Params...)
	}
	return b
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isSuite: crypto-suite is 1*(ALPHA / DIGIT / "_") (RFC 4568 9.1).
func isSuite(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ParseCrypto parses an a=crypto value (what follows "crypto:"). Errors
// are *CryptoError (ErrCrypto).
func ParseCrypto(v string) (Crypto, error) {
	bad := func(why string) (Crypto, error) { return Crypto{}, &CryptoError{Value: v, Why: why} }
	var c Crypto
	tag, rest, ok := strings.Cut(v, " ")
	if !ok {
		return bad("want <tag> <suite> <key-params>")
	}
	if !isDigits(tag) || len(tag) > 9 {
		return bad("tag is not 1 to 9 digits")
	}
	c.Tag, _ = strconv.Atoi(tag)
	suite, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return bad("no key parameters")
	}
	if !isSuite(suite) {
		return bad("crypto suite " + strconv.Quote(suite))
	}
	c.Suite = suite
	keys, params, _ := strings.Cut(rest, " ")
	c.Params = params
	if params != "" && strings.TrimSpace(params) != params {
		return bad("extra spaces")
	}
	for kp := range strings.SplitSeq(keys, ";") {
		method, info, ok := strings.Cut(kp, ":")
		if !ok || method != "inline" {
			return bad("key method " + strconv.Quote(method) + ", want inline")
		}
		c.Keys++
		if c.Keys > 1 {
			continue // only the first key is kept; Usable refuses more
		}
		fields := strings.Split(info, "|")
		if len(fields) > 3 {
			return bad("too many | fields in the key")
		}
		key, err := base64.StdEncoding.Strict().DecodeString(fields[0])
		if err != nil || len(key) == 0 {
			return bad("key is not base64")
		}
		if (suite == SuiteSHA1_80 || suite == SuiteSHA1_32) && len(key) != KeySaltLen {
			return bad("key||salt of " + strconv.Itoa(len(key)) + " bytes, want 30")
		}
		c.Key = key
		for _, f := range fields[1:] {
			if m, l, isMKI := strings.Cut(f, ":"); isMKI {
				if c.MKILen != 0 || !isDigits(m) || !isDigits(l) || len(m) > 9 || len(l) > 3 {
					return bad("MKI " + strconv.Quote(f))
				}
				c.MKI, _ = strconv.Atoi(m)
				c.MKILen, _ = strconv.Atoi(l)
				if c.MKILen < 1 || c.MKILen > 128 {
					return bad("MKI length " + l)
				}
				continue
			}
			if c.Lifetime != 0 || c.MKILen != 0 {
				return bad("lifetime " + strconv.Quote(f) + " out of place")
			}
			lt, isPow := strings.CutPrefix(f, "2^")
			if !isDigits(lt) {
				return bad("lifetime " + strconv.Quote(f))
			}
			n, err := strconv.ParseUint(lt, 10, 64)
			if err != nil || (isPow && (n == 0 || n > 63)) || n == 0 {
				return bad("lifetime " + strconv.Quote(f))
			}
			if isPow {
				n = 1 << n
			}
			c.Lifetime = n
		}
	}
	return c, nil
}

// Cryptos returns the m-line's a=crypto attributes in order, or the error
// of the first malformed one.
func (m Media) Cryptos() ([]Crypto, error) {
	var cs []Crypto
	for _, a := range m.Attrs {
		if a.Key != "crypto" {
			continue
		}
		c, err := ParseCrypto(a.Value)
		if err != nil {
			return nil, err
		}
		for _, o := range cs {
			if o.Tag == c.Tag {
				return nil, &CryptoError{Value: a.Value, Why: "tag " + strconv.Itoa(c.Tag) + " twice"}
			}
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// IsSAVP reports whether an m-line proto is SRTP's: RTP/SAVP or RTP/SAVPF
// (RFC 3711, RFC 5124).
func IsSAVP(proto string) bool {
	return strings.EqualFold(proto, "RTP/SAVP") || strings.EqualFold(proto, "RTP/SAVPF")
}
