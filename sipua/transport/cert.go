package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// CertError is a TLS server certificate that did not verify: the
// connection was closed before anything was sent on it. Name is the name
// (or IP address) the server had to prove.
type CertError struct {
	Name string
	Err  error // the x509 error
}

func (e *CertError) Error() string {
	return fmt.Sprintf("%s: certificate %s (%v)", e.Name, e.What(), e.Err)
}

func (e *CertError) Unwrap() error { return e.Err }

// What says in a few words what was wrong: "not trusted", "not valid for
// this name", "expired or not yet valid", or "rejected".
func (e *CertError) What() string {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(e.Err, &ua):
		return "not trusted"
	case errors.As(e.Err, &hn):
		return "not valid for this name"
	case errors.As(e.Err, &inv) && inv.Reason == x509.Expired:
		return "expired or not yet valid"
	}
	return "rejected"
}

// RefusedError is a TLS server that ended the connection with an alert
// before it sent anything: it refused the phone in its handshake, most
// often for want of a client certificate it trusts.
type RefusedError struct {
	Name string // the server, as it had to prove
	Err  error  // the alert
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: refused the TLS handshake (%v)", e.Name, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// certError turns a handshake error that crypto/tls reports as a failed
// verification of the server's certificate into a *CertError; other
// errors (a reset, a timeout, no common cipher) come back as they are.
func certError(name string, err error) error {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return &CertError{Name: name, Err: cv.Err}
	}
	return err
}
