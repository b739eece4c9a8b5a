package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// A configuration is key = value lines, so certificates and keys are
// written as base64 DER on one line (the body of a PEM file, joined:
// `openssl x509 -in ca.pem -outform der | base64 -w0`), several
// certificates separated by blanks.

// ParseCertificates reads provision.ca or provision.cert: one or more
// base64 DER certificates separated by blanks.
func ParseCertificates(v string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for i, f := range strings.Fields(v) {
		der, err := base64.StdEncoding.DecodeString(f)
		if err != nil {
			return nil, fmt.Errorf("certificate %d is not base64 (want DER in base64, one line)", i+1)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", i+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate")
	}
	return out, nil
}

// ParsePrivateKey reads provision.key: a base64 DER private key, PKCS #8,
// PKCS #1 (RSA) or SEC 1 (EC).
func ParsePrivateKey(v string) (crypto.Signer, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil {
		return nil, errors.New("not base64 (want a DER private key in base64, one line)")
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("a %T key cannot sign", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("not a PKCS #8, PKCS #1 or SEC 1 private key")
}

// matches reports whether key is the private half of cert's public key.
func matches(cert *x509.Certificate, key crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch pub := key.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return pub.(equaler).Equal(cert.PublicKey)
	}
	return false
}

func setCerts(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	if _, err := ParseCertificates(v); err != nil {
		return err
	}
	*dst = strings.Join(strings.Fields(v), " ")
	return nil
}

func setKey(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	if _, err := ParsePrivateKey(v); err != nil {
		return err
	}
	*dst = v
	return nil
}

// setProvisionURL takes a tftp://, http:// or https:// URL with a host.
func setProvisionURL(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%q is not a URL", clip(v))
	}
	switch strings.ToLower(u.Scheme) {
	case "tftp", "http", "https":
	default:
		return fmt.Errorf("%q: the scheme must be tftp, http or https", clip(v))
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: want scheme://host[:port]/folder/[file], no user, query or fragment", clip(v))
	}
	*dst = v
	return nil
}

// validateClientCert checks that provision.cert and provision.key come
// together and belong together.
func (c Config) validateClientCert() error {
	switch {
	case c.ProvisionCert == "" && c.ProvisionKey == "":
		return nil
	case c.ProvisionKey == "":
		return &Error{Key: "provision.cert", Err: errors.New("needs provision.key")}
	case c.ProvisionCert == "":
		return &Error{Key: "provision.key", Err: errors.New("needs provision.cert")}
	}
	certs, err1 := ParseCertificates(c.ProvisionCert)
	key, err2 := ParsePrivateKey(c.ProvisionKey)
	if err1 != nil || err2 != nil || !matches(certs[0], key) {
		return &Error{Key: "provision.key", Err: errors.New("is not the key of the first certificate of provision.cert")}
	}
	return nil
}
