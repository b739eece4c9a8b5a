package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestTLSKeys: sip.tls_ca, sip.tls_cert and sip.tls_key take PEM on one
// line (line breaks as spaces or \n), print back on one line (the key
// masked), and are checked: certificates that parse, a key that goes with
// the certificate, both or neither; line.N.sips needs TLS.
func TestTLSKeys(t *testing.T) {
	ca := testtool.NewCA(t, "deskphone test CA")
	leaf, other := ca.Issue(t, "phone", testtool.LeafOptions{}), ca.Issue(t, "phone 2", testtool.LeafOptions{})
	spaces := func(b []byte) string { return strings.Join(strings.Fields(string(b)), " ") }
	escaped := func(b []byte) string { return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", `\n`) }
	file := "sip.tls_ca = " + spaces(ca.PEM) + "\nsip.tls_cert = " + escaped(leaf.CertPEM) + "\nsip.tls_key = " + spaces(leaf.KeyPEM) + "\n"
	c, _, err := Load([]byte(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.TLSCA != string(ca.PEM) || c.TLSCert != string(leaf.CertPEM) || c.TLSKey != string(leaf.KeyPEM) {
		t.Fatalf("PEM not kept as it was:\n%s\n%s", c.TLSCA, c.TLSCert)
	}
	out := c.String()
	if !strings.Contains(out, "sip.tls_ca = "+spaces(ca.PEM)+"\n") || !strings.Contains(out, "sip.tls_key = ********\n") || strings.Contains(out, "PRIVATE") {
		t.Fatalf("String:\n%s", out)
	}
	for _, tc := range []struct{ name, file, key, err string }{
		{"not PEM", "sip.tls_ca = hello", "sip.tls_ca", "is not a PEM block"},
		{"a key as CA", "sip.tls_ca = " + spaces(leaf.KeyPEM), "sip.tls_ca", "a PRIVATE KEY block; want CERTIFICATE"},
		{"cut short", "sip.tls_ca = " + spaces(ca.PEM)[:100], "sip.tls_ca", "has no -----END CERTIFICATE-----"},
		{"bad base64", "sip.tls_ca = -----BEGIN CERTIFICATE----- @@@@ -----END CERTIFICATE-----", "sip.tls_ca", "base64"},
		{"not a certificate", "sip.tls_ca = -----BEGIN CERTIFICATE----- aGVsbG8= -----END CERTIFICATE-----", "sip.tls_ca", "does not parse"},
		{"certificate without key", "sip.tls_cert = " + spaces(leaf.CertPEM), "sip.tls_key", "its key is not"},
		{"key without certificate", "sip.tls_key = " + spaces(leaf.KeyPEM), "sip.tls_cert", "its certificate is not"},
		{"another's key", "sip.tls_cert = " + spaces(leaf.CertPEM) + "\nsip.tls_key = " + spaces(other.KeyPEM), "sip.tls_key", "does not go with"},
		{"sips over udp", "line.1.user = 1\nline.1.sips = on", "line.1.sips", "needs line.1.transport = tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load([]byte(tc.file), nil)
			var e *Error
			if !errors.As(err, &e) || e.Key != tc.key || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want %s: ...%s", err, tc.key, tc.err)
			}
		})
	}
	if c, _, err := Load([]byte("line.1.user = 1\nline.1.transport = tls\nline.1.sips = on\n"), nil); err != nil || !c.Lines[0].SIPS {
		t.Fatalf("sips over tls: %v", err)
	}
}

// FuzzOneLinePEM: any value gives PEM or an error, never a panic, and
// what it gives reads back the same from its one-line form.
func FuzzOneLinePEM(f *testing.F) {
	f.Add("-----BEGIN CERTIFICATE----- aGVs bG8= -----END CERTIFICATE-----")
	f.Add(`-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE----- -----END CERTIFICATE-----`)
	f.Add("-----BEGIN CERTIFICATE-----")
	f.Add("-----BEGIN X----- -----END Y-----")
	f.Fuzz(func(t *testing.T, v string) {
		p, err := parseOneLinePEM(v, "CERTIFICATE")
		if err != nil {
			return
		}
		back, err := parseOneLinePEM(oneLinePEM(string(p)), "CERTIFICATE")
		if err != nil || string(back) != string(p) {
			t.Fatalf("%q: one-line form %q reads back %q, %v", p, oneLinePEM(string(p)), back, err)
		}
	})
}
