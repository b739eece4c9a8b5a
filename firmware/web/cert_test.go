package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskphone/deskphone/firmware/storage"
)

// storeAdapter is the app's adapter of a storage.Store, here over a file.
type fileStore struct{ s *storage.Store }

func (f fileStore) Load() ([]byte, error) {
	c, err := f.s.Load()
	return c.Data, err
}
func (f fileStore) Save(b []byte) error { _, err := f.s.Save(b); return err }

func openStore(t *testing.T, path string) fileStore {
	t.Helper()
	s, file, err := storage.OpenRegion(path, storage.WebRegion)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	return fileStore{s}
}

// TestCert: made on first boot and stored; the same one at the next boot;
// a new one for a corrupt store, another address or an expired one.
func TestCert(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	ips := []net.IP{net.ParseIP("10.0.2.15")}
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	first, err := Cert(openStore(t, path), "deskphone-525400123410", ips, now)
	if err != nil || !first.Made || first.StoreErr != nil || !errors.Is(first.Why, storage.ErrEmpty) {
		t.Fatalf("first boot: %+v %v", first, err)
	}
	leaf := first.Leaf
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("key %T", leaf.PublicKey)
	}
	if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(ips[0]) || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "deskphone-525400123410" {
		t.Errorf("SAN %v %v", leaf.IPAddresses, leaf.DNSNames)
	}
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	again, err := Cert(openStore(t, path), "deskphone-525400123410", ips, now.Add(24*time.Hour))
	if err != nil || again.Made || !bytes.Equal(again.Certificate.Certificate[0], first.Certificate.Certificate[0]) {
		t.Fatalf("second boot made a new one: %+v %v", again.Made, err)
	}
	// A new address: a new certificate naming it.
	moved, err := Cert(openStore(t, path), "x", []net.IP{net.ParseIP("192.0.2.9")}, now)
	if err != nil || !moved.Made || moved.Why == nil {
		t.Fatalf("new address: %+v %v", moved, err)
	}
	// Expired: a new one.
	late, err := Cert(openStore(t, path), "x", []net.IP{net.ParseIP("192.0.2.9")}, now.Add(CertLifetime+time.Hour))
	if err != nil || !late.Made {
		t.Fatalf("expired: %+v %v", late.Made, err)
	}
	// Corrupt: stored garbage is replaced, never a crash.
	st := openStore(t, path)
	st.Save([]byte("-----BEGIN CERTIFICATE-----\ngarbage\n"))
	bad, err := Cert(st, "x", ips, now)
	if err != nil || !bad.Made || bad.Why == nil {
		t.Fatalf("corrupt: %+v %v", bad, err)
	}
	if again, _ := Cert(st, "x", ips, now); again.Made {
		t.Fatal("the replacement was not stored")
	}
	// No storage: a new certificate, served all the same.
	none, err := Cert(nil, "x", ips, now)
	if err != nil || !none.Made {
		t.Fatalf("no storage: %+v %v", none, err)
	}
}

// FuzzParseCert: whatever the state device holds, parseCert returns a
// certificate or an error, and never panics.
func FuzzParseCert(f *testing.F) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	good, err := makeCert("p", []net.IP{net.ParseIP("10.0.2.15")}, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCert(data, []net.IP{net.ParseIP("10.0.2.15")}, now)
		if err == nil && c.Leaf == nil {
			t.Fatal("a certificate without its leaf")
		}
	})
}
