package sipmsg

import (
	"crypto/rand"
	"encoding/hex"
)

// MagicCookie starts every RFC 3261 branch (section 8.1.1.7).
const MagicCookie = "z9hG4bK"

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// NewBranch returns a fresh Via branch: the magic cookie and 64 random bits.
func NewBranch() string {
	var b [len(MagicCookie) + 16]byte
	return string(AppendBranch(b[:0]))
}

// AppendBranch appends a fresh branch (NewBranch) to dst: a Via built in
// one buffer costs one allocation, its string.
func AppendBranch(dst []byte) []byte {
	// The random bits are read into dst's own room, after where their hex
	// goes (a local array escapes to rand.Read in a -race build).
	at := len(dst) + len(MagicCookie)
	dst = append(append(dst, MagicCookie...), make([]byte, 16+8)...)
	raw := dst[at+16:]
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
	hex.Encode(dst[at:at+16], raw)
	return dst[:at+16]
}

// NewTag returns a fresh From/To tag.
func NewTag() string { return randHex(6) }

// NewCallID returns a fresh Call-ID, "random@host" (just random if host is "").
func NewCallID(host string) string {
	if host == "" {
		return randHex(12)
	}
	return randHex(12) + "@" + host
}
