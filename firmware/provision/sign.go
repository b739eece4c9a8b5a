package provision

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
)

// SigSuffix is added to a file's name to name its signature: phone.cfg is
// signed by phone.cfg.sig.
const SigSuffix = ".sig"

// ErrSignature is wrapped by every refusal of a file for its signature:
// missing, malformed or not matching.
var ErrSignature = errors.New("provision: bad signature")

// signedMessage is what a signature covers: a context string, the file's
// name (so a file signed for one phone cannot be served as another's, nor
// the common file as a phone's own) and its bytes.
func signedMessage(name string, data []byte) []byte {
	m := make([]byte, 0, 32+len(name)+len(data))
	m = append(m, "deskphone-config-v1\n"...)
	m = append(m, name...)
	m = append(m, '\n')
	return append(m, data...)
}

// Sign returns the signature file (base64 and a newline) for the file
// called name (its base name, as the phone asks for it) holding data.
func Sign(priv ed25519.PrivateKey, name string, data []byte) []byte {
	sig := ed25519.Sign(priv, signedMessage(name, data))
	return []byte(base64.StdEncoding.EncodeToString(sig) + "\n")
}

// Verify checks a signature file made by Sign.
func Verify(pub ed25519.PublicKey, name string, data, sigFile []byte) error {
	sig, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(sigFile)))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: %s%s is not a base64 Ed25519 signature", ErrSignature, name, SigSuffix)
	}
	if !ed25519.Verify(pub, signedMessage(name, data), sig) {
		return fmt.Errorf("%w: %s does not match %s%s for the trusted key", ErrSignature, name, name, SigSuffix)
	}
	return nil
}

// ParsePublicKey reads a base64 Ed25519 public key (provision.public_key).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace([]byte(s))))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("provision: %q is not a base64 Ed25519 public key", s)
	}
	return ed25519.PublicKey(b), nil
}

// ParsePrivateKey reads a private key file: base64 of the 32-byte seed or
// of the 64-byte private key, on one line.
func ParsePrivateKey(file []byte) (ed25519.PrivateKey, error) {
	b, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(file)))
	switch {
	case err != nil:
		return nil, errors.New("provision: private key: not base64")
	case len(b) == ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case len(b) == ed25519.PrivateKeySize:
		k := ed25519.NewKeyFromSeed(b[:32])
		if !bytes.Equal(k, b) {
			return nil, errors.New("provision: private key: its public half does not match its seed")
		}
		return k, nil
	}
	return nil, fmt.Errorf("provision: private key: %d bytes, want 32 (seed) or 64", len(b))
}
