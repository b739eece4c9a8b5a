package sdp

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseCrypto(t *testing.T) {
	good := []struct {
		v      string
		usable bool
		life   uint64
		mki    int
	}{
		// baresip's srtp module, Asterisk, FreeSWITCH: no lifetime, no MKI.
		{"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", true, 0, 0},
		{"2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj", true, 0, 0},
		// RFC 4568's own example: a lifetime and an MKI (not taken).
		{"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32", false, 1 << 20, 32},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1048576", true, 1 << 20, 0},
		// Another suite parses (Snom and Cisco offer AES-256 and GCM too).
		{"3 AES_256_CM_HMAC_SHA1_80 inline:CY3Jfn6r2Bb4cTJp1y4Q8dmzk6AUl4jcR9oVhAlxrW7gh6ApuN7SpwAbSeX/gw==", false, 0, 0},
		// Session parameters: parsed, not taken.
		{"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTP", false, 0, 0},
	}
	for _, g := range good {
		c, err := ParseCrypto(g.v)
		if err != nil {
			t.Errorf("%q: %v", g.v, err)
			continue
		}
		if c.Usable() != g.usable || c.Lifetime != g.life || c.MKILen != g.mki {
			t.Errorf("%q: %+v usable %v", g.v, c, c.Usable())
		}
		if c2, err := ParseCrypto(c.String()); err != nil || c2.Tag != c.Tag || !bytes.Equal(c2.Key, c.Key) || c2.Lifetime != c.Lifetime {
			t.Errorf("%q: written %q reads back %+v, %v", g.v, c.String(), c2, err)
		}
	}
	bad := []string{
		"",
		"1",
		"1 AES_CM_128_HMAC_SHA1_80",
		"x AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		"1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		"1 AES-CM inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		"1 AES_CM_128_HMAC_SHA1_80 uri:http://example.com/key",
		"1 AES_CM_128_HMAC_SHA1_80 inline:",
		"1 AES_CM_128_HMAC_SHA1_80 inline:not*base64",
		"1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=",                                     // 5 bytes
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRAA==", // 31 bytes
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^99",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|0",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:0",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4|2^20",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1|2|3",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR  KDR=1",
	}
	for _, v := range bad {
		if c, err := ParseCrypto(v); err == nil || !errors.Is(err, ErrCrypto) {
			t.Errorf("%q: accepted as %+v (%v)", v, c, err)
		}
	}
	m := Media{Attrs: []Attr{{"crypto", good[0].v}, {"crypto", good[0].v}}}
	if _, err := m.Cryptos(); err == nil {
		t.Error("two lines with tag 1 accepted")
	}
}

// FuzzCrypto: ParseCrypto never panics, and what it accepts it writes
// back in a form it reads the same.
func FuzzCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := ParseCrypto(v)
		if err != nil {
			return
		}
		c2, err := ParseCrypto(c.String())
		if err != nil {
			t.Fatalf("%q: wrote %q, which does not parse: %v", v, c.String(), err)
		}
		if c2.Tag != c.Tag || c2.Suite != c.Suite || !bytes.Equal(c2.Key, c.Key) || c2.Lifetime != c.Lifetime ||
			c2.MKI != c.MKI || c2.MKILen != c.MKILen || c2.Params != c.Params {
			t.Fatalf("%q: %+v, written and read back %+v", v, c, c2)
		}
	})
}
