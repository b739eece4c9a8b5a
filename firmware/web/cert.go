package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"
)

// CertLifetime is how long a certificate the phone makes is valid.
const CertLifetime = 10 * 365 * 24 * time.Hour

// CertStore is where the certificate is kept: a *storage.Store over the
// state device's WebRegion.
type CertStore interface {
	Load() (data []byte, err error)
	Save(data []byte) error
}

// Certificate is what Cert found or made.
type Certificate struct {
	tls.Certificate
	// Made: the certificate is new; Why says why the stored one was not
	// used (nothing stored, corrupt, expired, another address).
	Made bool
	Why  error
	// StoreErr: the new certificate could not be stored; the phone serves
	// it all the same and makes another at the next boot.
	StoreErr error
}

// Cert returns the phone's certificate: the stored one when it is sound,
// valid at now and names every address in ips; otherwise a new one, which
// it stores. A nil store makes a new certificate each time. It fails only
// when no certificate can be made.
func Cert(store CertStore, name string, ips []net.IP, now time.Time) (Certificate, error) {
	var why error = errors.New("no storage for it")
	if store != nil {
		data, err := store.Load()
		if err == nil {
			cert, err := parseCert(data, ips, now)
			if err == nil {
				return Certificate{Certificate: cert}, nil
			}
			why = err
		} else {
			why = err
		}
	}
	data, err := makeCert(name, ips, now)
	if err != nil {
		return Certificate{}, err
	}
	cert, err := parseCert(data, ips, now)
	if err != nil {
		return Certificate{}, fmt.Errorf("web: the new certificate: %w", err)
	}
	c := Certificate{Certificate: cert, Made: true, Why: why}
	if store != nil {
		c.StoreErr = store.Save(data)
	}
	return c, nil
}

// parseCert reads a stored certificate and key (PEM: CERTIFICATE, then EC
// PRIVATE KEY) and checks that it is a P-256 certificate valid at now
// that names every address in ips.
func parseCert(data []byte, ips []net.IP, now time.Time) (tls.Certificate, error) {
	cert, err := tls.X509KeyPair(data, data)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("web: stored certificate: %w", err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("web: stored certificate: %w", err)
		}
		cert.Leaf = leaf
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return tls.Certificate{}, errors.New("web: stored certificate: not ECDSA P-256")
	}
	if now.Before(leaf.NotBefore) || !now.Before(leaf.NotAfter) {
		return tls.Certificate{}, fmt.Errorf("web: stored certificate: valid %s to %s, not now", leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return tls.Certificate{}, fmt.Errorf("web: stored certificate does not name %s", ip)
		}
	}
	return cert, nil
}

// makeCert makes a self-signed ECDSA P-256 certificate for name and ips,
// valid from an hour before now (a phone's clock before NTP may lag) for
// CertLifetime, and returns it and its key as PEM.
func makeCert(name string, ips []net.IP, now time.Time) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("web: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("web: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"deskphone"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CertLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           ips,
	}
	if name != "" {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("web: certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("web: key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})...), nil
}
