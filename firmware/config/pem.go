package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// A configuration file has one key = value a line, so PEM (the TLS
// keys' values) is written on one line: the PEM text with its line breaks
// replaced by spaces (tr '\n' ' ' < ca.pem), or by the two characters \n.
// Blocks follow each other; their base64 may be broken anywhere by
// blanks.

// maxPEM bounds a PEM value (a CA bundle of a few certificates).
const maxPEM = 32 << 10

// parseOneLinePEM turns a one-line PEM value back into PEM text, keeping
// only blocks whose type is one of types. "" stays "". Anything but
// blocks and blanks is an error.
func parseOneLinePEM(v string, types ...string) ([]byte, error) {
	if len(v) > maxPEM {
		return nil, fmt.Errorf("longer than %d bytes", maxPEM)
	}
	v = strings.ReplaceAll(v, `\n`, " ")
	var out []byte
	for {
		v = strings.TrimSpace(v)
		if v == "" {
			break
		}
		rest, ok := strings.CutPrefix(v, "-----BEGIN ")
		if !ok {
			return nil, fmt.Errorf("%q is not a PEM block (-----BEGIN ...)", clip(v))
		}
		typ, rest, ok := strings.Cut(rest, "-----")
		if !ok {
			return nil, errors.New("a PEM block's -----BEGIN line does not end")
		}
		end := "-----END " + typ + "-----"
		body, rest, ok := strings.Cut(rest, end)
		if !ok {
			return nil, fmt.Errorf("a %s block has no %s", typ, end)
		}
		if !oneOf(typ, types) {
			return nil, fmt.Errorf("a %s block; want %s", typ, strings.Join(types, " or "))
		}
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
		if err != nil {
			return nil, fmt.Errorf("a %s block's base64: %w", typ, err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})...)
		v = rest
	}
	return out, nil
}

func oneOf(s string, list []string) bool {
	for _, l := range list {
		if s == l {
			return true
		}
	}
	return false
}

// oneLinePEM writes PEM text as a one-line value (line breaks as spaces).
func oneLinePEM(p string) string { return strings.Join(strings.Fields(p), " ") }

// setCAs sets sip.tls_ca: certificates, each of which must parse.
func setCAs(c *Config, v string) error {
	p, err := parseOneLinePEM(v, "CERTIFICATE")
	if err != nil {
		return err
	}
	for rest := p; len(rest) > 0; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("a certificate does not parse: %w", err)
		}
	}
	c.TLSCA = string(p)
	return nil
}

// checkTLSPair checks sip.tls_cert and sip.tls_key together (Validate):
// both or neither, and the key is the certificate's.
func (c Config) checkTLSPair() error {
	switch {
	case c.TLSCert == "" && c.TLSKey == "":
		return nil
	case c.TLSKey == "":
		return &Error{Key: "sip.tls_key", Err: errors.New("sip.tls_cert is set but its key is not")}
	case c.TLSCert == "":
		return &Error{Key: "sip.tls_cert", Err: errors.New("sip.tls_key is set but its certificate is not")}
	}
	if _, err := tls.X509KeyPair([]byte(c.TLSCert), []byte(c.TLSKey)); err != nil {
		return &Error{Key: "sip.tls_key", Err: fmt.Errorf("does not go with sip.tls_cert: %w", err)}
	}
	return nil
}
