package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/sipua"
)

// TestKamailioTLS: Kamailio with tls.so and a certificate for pbx.test
// (and 127.0.0.1) from a CA the test makes, requiring client certificates
// from that CA. Phones on SIPS lines find pbx.test through dnsmasq, check
// Kamailio's certificate against the CA given as Config.TLSCA (what
// sip.tls_ca feeds), register with their own certificates, and call each
// other; Kamailio's $proto says every request came over TLS, with the
// phone's certificate. A registrar name the certificate does not carry, a
// CA that did not sign it, and a phone without a client certificate fail
// the registration at once with the reason, and Kamailio never sees a
// request from those phones.
func TestKamailioTLS(t *testing.T) {
	need(t, "kamailio") // before dnsmasq: -short skips here
	if mods := KamailioModules(); mods != "" {
		if _, err := os.Stat(filepath.Join(mods, "tls.so")); err != nil {
			testtool.Missing(t, "kamailio's tls.so is not installed (kamailio-tls-modules)")
		}
	}
	dir := t.TempDir()
	ca, stranger := testtool.NewCA(t, "deskphone interop CA"), testtool.NewCA(t, "someone else")
	kcert, kkey := ca.Issue(t, "pbx.test", testtool.LeafOptions{DNS: []string{"pbx.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}).WriteFiles(t, dir, "kamailio")
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	dns := testtool.DNSMasq(t, "--local=/test/", "--host-record=pbx.test,127.0.0.1", "--host-record=wrong.test,127.0.0.1")
	udpPort := testtool.Ports(t, 2) // and TLS at the next port
	tlsPort := udpPort + 1
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	k := startKamailioOpts(t, ctx, KamailioOptions{Port: udpPort,
		TLS: &KamailioTLS{Port: tlsPort, Cert: kcert, Key: kkey, CA: caFile, RequireClient: true}})
	start := func(user, host string, roots []byte, withCert bool) (*sipua.UA, *tcpSeen) {
		t.Helper()
		var phone testtool.Leaf
		if withCert {
			phone = ca.Issue(t, "phone-"+user, testtool.LeafOptions{})
		}
		seen := &tcpSeen{}
		ua, err := sipua.New(sipua.Config{Listen: "127.0.0.1:0", UserAgent: "deskphone-interop", Trace: seen.trace, Logf: t.Logf,
			DNSServers: []string{dns}, TLSCA: roots, TLSCert: phone.CertPEM, TLSKey: phone.KeyPEM,
			Lines: []sipua.LineConfig{{User: user, Password: "pw" + user, Registrar: fmt.Sprintf("%s:%d", host, tlsPort),
				Transport: "tls", SIPS: true, Expires: 300}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := ua.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ua.Close() })
		return ua, seen
	}
	registered := func(ua *sipua.UA, user string) {
		t.Helper()
		if e := nextEvent(t, ua, sipua.RegChanged); e.RegText() != "registered" {
			t.Fatalf("%s: %+v", user, e)
		}
	}

	t.Run("registration and call", func(t *testing.T) {
		a, _ := start("1001", "pbx.test", ca.PEM, true)
		registered(a, "1001")
		b, bSeen := start("1002", "pbx.test", ca.PEM, true)
		registered(b, "1002")
		basicCall(t, a, b, false)
		// Kamailio's word for what each request came over, and whose
		// client certificate it carried.
		protos := k.Protos()
		for _, want := range []string{"REGISTER tls 1001 phone-1001", "REGISTER tls 1002 phone-1002",
			"INVITE tls 1001 phone-1001", "ACK tls 1001 phone-1001", "BYE tls 1001 phone-1001"} {
			if !slices.Contains(protos, want) {
				t.Errorf("kamailio saw no %q: %q", want, protos)
			}
		}
		for _, p := range protos {
			if f := strings.Fields(p); f[1] != "tls" && f[2] != "probe" {
				t.Errorf("kamailio got %q, not over TLS", p)
			}
		}
		// Kamailio relayed the INVITE to the callee's sips Contact over
		// TLS (the callee's listener): a sips Request-URI over TLS is taken.
		found := false
		for _, v := range bSeen.all() {
			if strings.HasPrefix(v, "INVITE ") {
				found = true
				if !strings.HasPrefix(v, "INVITE SIP/2.0/TLS ") {
					t.Errorf("callee's INVITE came %s", v)
				}
			}
		}
		if !found {
			t.Errorf("the callee saw no INVITE: %q", bSeen.all())
		}
	})

	for _, tc := range []struct {
		name, user, host string
		roots            []byte
		noCert           bool
		reason           string // Event.Detail, or its start when it ends in "("
	}{
		{name: "wrong host name", user: "1003", host: "wrong.test", roots: ca.PEM,
			reason: "registrar wrong.test: certificate not valid for this name (x509: certificate is valid for pbx.test, not wrong.test)"},
		{name: "untrusted CA", user: "1004", host: "pbx.test", roots: stranger.PEM,
			reason: "registrar pbx.test: certificate not trusted (x509: certificate signed by unknown authority)"},
		{name: "no client certificate", user: "1005", host: "pbx.test", roots: ca.PEM, noCert: true,
			reason: "registrar pbx.test: refused the TLS handshake ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ua, _ := start(tc.user, tc.host, tc.roots, !tc.noCert)
			select {
			case e := <-ua.Events():
				ok := e.Detail == tc.reason || strings.HasSuffix(tc.reason, "(") && strings.HasPrefix(e.Detail, tc.reason)
				if e.Kind != sipua.RegChanged || e.RegText() != "failed:503" || !ok {
					t.Fatalf("%+v, want failed:503 %q", e, tc.reason)
				}
				t.Logf("registration failed: %s", e.Detail)
			case <-time.After(10 * time.Second):
				t.Fatal("no registration event")
			}
			for _, p := range k.Protos() {
				if strings.Contains(p, " "+tc.user+" ") {
					t.Errorf("kamailio got %q from a phone it should never have heard", p)
				}
			}
		})
	}
}
