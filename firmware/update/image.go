package update

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/deskphone/deskphone/firmware/version"
)

// HeaderSize is the size of an image's header; the payload follows it.
const HeaderSize = 512

// MaxPayload bounds an image's payload (the phoned binary): a header
// naming more is refused before anything is written.
const MaxPayload = 64 << 20

const (
	imageMagic = "DPFWIMG1"
	// signedLen is how much of the header the signature covers: all of
	// it up to the signature.
	signedLen = HeaderSize - ed25519.SignatureSize
	// sigContext is put before the signed bytes, so a firmware signature
	// can never pass for a configuration file's (provision.Sign uses
	// "deskphone-config-v1") and the other way round.
	sigContext = "deskphone-firmware-v1\n"
	versionLen = 32
	archLen    = 16
)

// Header offsets (big endian):
//
//	0   8   magic "DPFWIMG1"
//	8   4   header size, 512
//	12  4   flags, 0
//	16  8   payload length, 1..MaxPayload
//	24  32  SHA-256 of the payload
//	56  32  version, printable ASCII, NUL padded (Version)
//	88  16  architecture, "arm64" (GOARCH), NUL padded
//	104 344 zero
//	448 64  Ed25519 signature of sigContext + bytes 0..448
const (
	offSize    = 8
	offFlags   = 12
	offLen     = 16
	offSum     = 24
	offVersion = 56
	offArch    = 88
	offZero    = 104
)

// ErrSignature is wrapped by every refusal of an image for its signature.
var ErrSignature = errors.New("update: bad signature")

// ErrFormat is wrapped by every refusal of a header that is not an image
// header this firmware reads.
var ErrFormat = errors.New("update: not a firmware image")

// Header is what an image says about its payload.
type Header struct {
	Version string
	Arch    string // GOARCH of the binary
	Length  int64  // payload bytes
	SHA256  [32]byte
}

// Build returns the header for payload, signed with priv.
func Build(priv ed25519.PrivateKey, ver, arch string, payload []byte) ([]byte, error) {
	h := Header{Version: ver, Arch: arch, Length: int64(len(payload)), SHA256: sha256.Sum256(payload)}
	if err := h.check(); err != nil {
		return nil, err
	}
	b := make([]byte, HeaderSize)
	copy(b, imageMagic)
	binary.BigEndian.PutUint32(b[offSize:], HeaderSize)
	binary.BigEndian.PutUint64(b[offLen:], uint64(h.Length))
	copy(b[offSum:], h.SHA256[:])
	copy(b[offVersion:], ver)
	copy(b[offArch:], arch)
	copy(b[signedLen:], ed25519.Sign(priv, signedMessage(b)))
	return b, nil
}

func signedMessage(header []byte) []byte {
	return append([]byte(sigContext), header[:signedLen]...)
}

func (h Header) check() error {
	if err := checkText(h.Version, versionLen, "version"); err != nil {
		return err
	}
	if _, err := version.Parse(h.Version); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if err := checkText(h.Arch, archLen, "architecture"); err != nil {
		return err
	}
	if h.Length <= 0 || h.Length > MaxPayload {
		return fmt.Errorf("%w: payload of %d bytes (1 to %d)", ErrFormat, h.Length, MaxPayload)
	}
	return nil
}

func checkText(s string, max int, what string) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%w: %s %q: 1 to %d characters", ErrFormat, what, s, max)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("%w: %s %q: printable ASCII only", ErrFormat, what, s)
		}
	}
	return nil
}

// ParseHeader reads an image header strictly: magic, size, flags, the
// zero padding, the texts and the length must all be as Build writes
// them. It does not check the signature (Verify does).
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: %d bytes, the header is %d", ErrFormat, len(b), HeaderSize)
	}
	b = b[:HeaderSize]
	if string(b[:len(imageMagic)]) != imageMagic {
		return Header{}, fmt.Errorf("%w: no magic", ErrFormat)
	}
	if n := binary.BigEndian.Uint32(b[offSize:]); n != HeaderSize {
		return Header{}, fmt.Errorf("%w: header size %d", ErrFormat, n)
	}
	if f := binary.BigEndian.Uint32(b[offFlags:]); f != 0 {
		return Header{}, fmt.Errorf("%w: flags %#x", ErrFormat, f)
	}
	for _, c := range b[offZero:signedLen] {
		if c != 0 {
			return Header{}, fmt.Errorf("%w: padding not zero", ErrFormat)
		}
	}
	ver, err := field(b[offVersion:offVersion+versionLen], "version")
	if err != nil {
		return Header{}, err
	}
	arch, err := field(b[offArch:offArch+archLen], "architecture")
	if err != nil {
		return Header{}, err
	}
	n := binary.BigEndian.Uint64(b[offLen:])
	if n > MaxPayload {
		return Header{}, fmt.Errorf("%w: payload of %d bytes (1 to %d)", ErrFormat, n, MaxPayload)
	}
	h := Header{Version: ver, Arch: arch, Length: int64(n)}
	copy(h.SHA256[:], b[offSum:])
	if err := h.check(); err != nil {
		return Header{}, err
	}
	return h, nil
}

// field reads a NUL-padded text: no NUL inside it, only NULs after it.
func field(b []byte, what string) (string, error) {
	s, pad, _ := bytes.Cut(b, []byte{0})
	if len(bytes.Trim(pad, "\x00")) != 0 {
		return "", fmt.Errorf("%w: %s not NUL padded", ErrFormat, what)
	}
	return string(s), nil
}

// Verify parses the header and checks its signature with pub.
func Verify(pub ed25519.PublicKey, b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Header{}, err
	}
	if len(pub) != ed25519.PublicKeySize {
		return Header{}, fmt.Errorf("%w: no trusted key", ErrSignature)
	}
	if !ed25519.Verify(pub, signedMessage(b), b[signedLen:HeaderSize]) {
		return Header{}, fmt.Errorf("%w: image %s is not signed by the trusted key", ErrSignature, h.Version)
	}
	return h, nil
}
