package testtool

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNginx: one folder over http and https (a certificate from NewCA),
// the access log, and Kill.
func TestNginx(t *testing.T) {
	ca := NewCA(t, "test CA")
	cert := ca.Issue(t, "srv", LeafOptions{Hosts: []string{"127.0.0.1"}})
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("hello\n"), 0o644)
	n := Nginx(t, NginxConfig{Root: root, HTTP: true, CertFile: cert.CertFile, KeyFile: cert.KeyFile})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, u := range []string{"http://" + n.HTTP + "/a.txt", "https://" + n.HTTPS + "/a.txt"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "hello\n" {
			t.Fatalf("%s: %s %q", u, resp.Status, b)
		}
	}
	l := n.WaitLog(t, 2)
	if !strings.Contains(l[0], " GET /a.txt 200 6 inm=[] ims=[]") {
		t.Errorf("access log: %q", l)
	}
	n.Kill()
	if _, err := c.Get("http://" + n.HTTP + "/a.txt"); err == nil {
		t.Error("nginx still answers after Kill")
	}
}
