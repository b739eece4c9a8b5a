package provision

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/storage"
	"github.com/deskphone/deskphone/internal/testtool"
)

// writeFiles writes name, data pairs into dir.
func writeFiles(t *testing.T, dir string, kv ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(kv); i += 2 {
		if err := os.WriteFile(filepath.Join(dir, kv[i]), []byte(kv[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// signFiles writes name.sig beside each file in dir, signed with key1.
func signFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, dir, n+SigSuffix, string(Sign(key1, n, b)))
	}
}

// syncLogs collects a Provisioner's log lines; safe across goroutines.
type syncLogs struct {
	mu    sync.Mutex
	lines []string
}

func (l *syncLogs) logf(f string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (l *syncLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *syncLogs) reset() {
	l.mu.Lock()
	l.lines = nil
	l.mu.Unlock()
}

func generation(t *testing.T, st *storage.Store) uint64 {
	t.Helper()
	c, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c.Generation
}

// accessLog reads nginx's access log step by step: next(k) waits for the
// k requests the step made and returns their lines.
type accessLog struct {
	t    *testing.T
	n    *testtool.NginxServer
	seen int
}

func (a *accessLog) next(k int) string {
	a.t.Helper()
	l := a.n.WaitLog(a.t, a.seen+k)[a.seen : a.seen+k]
	a.seen += k
	return strings.Join(l, "\n")
}

// TestHTTPProvisioning: a phone provisioned over plain HTTP from nginx,
// with signatures: the common file, its own file and their .sig; a resync
// of unchanged files is two conditional requests answered 304 and nothing
// is stored again, also after a restart (the validators are stored); a
// changed own file is fetched, checked and stored; a 404 for <mac>.cfg
// leaves the common file alone.
func TestHTTPProvisioning(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "phones")
	writeFiles(t, dir, "phone.cfg", "line.1.registrar = 10.0.2.2\nprovision.public_key = "+pub(key1)+"\n", own, "line.1.user = 1001\n")
	signFiles(t, dir, "phone.cfg", own)
	n := testtool.Nginx(t, testtool.NginxConfig{Root: root, HTTP: true})
	src := URLSource{Loc: Location{Scheme: "http", Host: n.HTTP, Dir: "phones"}}
	st := newStore(t)
	var logs syncLogs
	p := &Provisioner{Source: src, OwnFile: own, Store: st, Logf: logs.logf}
	ctx := t.Context()
	cfg, err := p.Boot(ctx)
	if err != nil || cfg.Lines[0].User != "1001" || generation(t, st) != 1 {
		t.Fatalf("Boot: %v, user %q\n%s", err, cfg.Lines[0].User, logs.String())
	}
	access := &accessLog{t: t, n: n}
	if got := access.next(4); strings.Count(got, " 200 ") != 4 || !strings.Contains(got, "GET /phones/525400123456.cfg.sig 200") {
		t.Fatalf("access log after boot:\n%s", got)
	}

	// Resync: nothing changed.
	if changed, err := p.Check(ctx); err != nil || changed {
		t.Fatalf("Check unchanged = %v, %v\n%s", changed, err, logs.String())
	}
	if got := access.next(2); strings.Count(got, " 304 0 inm=[\"") != 2 || strings.Contains(got, ".sig") {
		t.Fatalf("resync of unchanged files, access log:\n%s", got)
	}
	if !strings.Contains(logs.String(), "phone.cfg is not modified on http://"+n.HTTP+"/phones") || generation(t, st) != 1 {
		t.Fatalf("generation %d, log:\n%s", generation(t, st), logs.String())
	}

	// A restart: the stored validators make the boot fetch conditional too.
	logs.reset()
	p = &Provisioner{Source: src, OwnFile: own, Store: st, Logf: logs.logf}
	if cfg, err := p.Boot(ctx); err != nil || cfg.Lines[0].User != "1001" {
		t.Fatalf("second Boot: %v\n%s", err, logs.String())
	}
	if got := access.next(2); strings.Count(got, " 304 ") != 2 || generation(t, st) != 1 {
		t.Fatalf("second boot: generation %d, access log:\n%s", generation(t, st), got)
	}

	// A changed own file is fetched (its validator no longer matches) and
	// both signatures checked.
	writeFiles(t, dir, own, "line.1.user = 10002\n")
	signFiles(t, dir, own)
	if changed, err := p.Check(ctx); err != nil || !changed || p.Current().Lines[0].User != "10002" || generation(t, st) != 2 {
		t.Fatalf("Check changed = %v, %v, generation %d\n%s", changed, err, generation(t, st), logs.String())
	}
	if got := access.next(4); !strings.Contains(got, "GET /phones/phone.cfg 304") || !strings.Contains(got, "GET /phones/525400123456.cfg 200") ||
		!strings.Contains(got, "GET /phones/525400123456.cfg.sig 200") {
		t.Fatalf("changed own file, access log:\n%s", got)
	}

	// The own file goes away: 404, the common file alone (and its
	// signature checked again, as the set changed).
	os.Remove(filepath.Join(dir, own))
	if changed, err := p.Check(ctx); err != nil || !changed || p.Current().Lines[0].User != "" {
		t.Fatalf("Check without own file = %v, %v\n%s", changed, err, logs.String())
	}
	if got := access.next(3); !strings.Contains(logs.String(), own+" is not on http://"+n.HTTP+"/phones; using phone.cfg alone") ||
		!strings.Contains(got, "GET /phones/525400123456.cfg 404") {
		t.Fatalf("log:\n%s\naccess log:\n%s", logs.String(), got)
	}
}

// TestHTTPSProvisioning: the phone starts from plain HTTP, whose file names
// an https provision.url and the CA (provision.ca); later fetches go over
// https, checked against that CA. Servers with an expired certificate,
// one for another name, one from another CA, and one that wants a client
// certificate the phone lacks are refused in plain words, and the phone
// stays on its last good configuration; with provision.cert and .key it
// gets in.
func TestHTTPSProvisioning(t *testing.T) {
	ca := testtool.NewCA(t, "deskphone test CA")
	good := ca.Issue(t, "good", testtool.LeafOptions{Hosts: []string{"127.0.0.1"}})
	expired := ca.Issue(t, "expired", testtool.LeafOptions{Hosts: []string{"127.0.0.1"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	otherName := ca.Issue(t, "other", testtool.LeafOptions{Hosts: []string{"prov.example"}})
	client := ca.Issue(t, "phone", testtool.LeafOptions{})
	stranger := testtool.NewCA(t, "someone else").Issue(t, "stranger", testtool.LeafOptions{Hosts: []string{"127.0.0.1"}})
	b64 := base64.StdEncoding.EncodeToString

	root := t.TempDir()
	n := testtool.Nginx(t, testtool.NginxConfig{Root: root, HTTP: true, CertFile: good.CertFile, KeyFile: good.KeyFile})
	common := "line.1.registrar = 10.0.2.2\nprovision.url = https://" + n.HTTPS + "/\nprovision.ca = " + b64(ca.Cert.Raw) + "\n"
	writeFiles(t, root, "phone.cfg", common, own, "line.1.user = 1001\n")
	st := newStore(t)
	var logs syncLogs
	p := &Provisioner{Source: URLSource{Loc: Location{Scheme: "http", Host: n.HTTP}}, OwnFile: own, Store: st, Logf: logs.logf}
	ctx := t.Context()
	if _, err := p.Boot(ctx); err != nil {
		t.Fatalf("Boot over http: %v\n%s", err, logs.String())
	}
	access := &accessLog{t: t, n: n}
	access.next(2) // the boot over http
	if changed, err := p.Check(ctx); err != nil || changed {
		t.Fatalf("Check over https = %v, %v\n%s", changed, err, logs.String())
	}
	port := n.HTTPS[strings.LastIndexByte(n.HTTPS, ':')+1:]
	if got := access.next(2); !strings.Contains(got, port+" GET /phone.cfg 200") || !strings.Contains(got, port+" GET /525400123456.cfg 200") {
		t.Fatalf("no https fetch; access log:\n%s", got)
	}
	if generation(t, st) != 2 { // same files, from https now, with its validators
		t.Fatalf("generation %d", generation(t, st))
	}
	changed, err := p.Check(ctx)
	if got := access.next(2); err != nil || changed || strings.Count(got, port+" GET ") != 2 || strings.Count(got, " 304 ") != 2 {
		t.Fatalf("https resync = %v, %v; access log:\n%s", changed, err, got)
	}

	// A firmware image comes through Download with the phone's trust.
	hc, err := p.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	if _, err := Download(ctx, "https://"+n.HTTPS+"/phone.cfg", &img, 1<<20, &DownloadOptions{HTTP: hc}); err != nil || img.String() != common {
		t.Fatalf("Download with the phone's client: %v", err)
	}
	if _, err := Download(ctx, "https://"+n.HTTPS+"/phone.cfg", &img, 1<<20, nil); !errors.Is(err, ErrTLS) {
		t.Fatalf("Download with the system roots: %v, want ErrTLS", err)
	}

	// Bad servers, which these phones reach through DHCP (their stored
	// configuration trusts the CA and names no provision.url), each with
	// a changed own file: the phone boots on the stored configuration and
	// a resync keeps it.
	writeFiles(t, root, own, "line.1.user = 6666\n")
	stored := "line.1.registrar = 10.0.2.2\nprovision.ca = " + b64(ca.Cert.Raw) + "\n"
	refuse := func(name string, c testtool.NginxConfig, want string) {
		t.Run(name, func(t *testing.T) {
			c.Root = root
			bad := testtool.Nginx(t, c)
			logs.reset()
			p := &Provisioner{Source: URLSource{Loc: Location{Scheme: "https", Host: bad.HTTPS}}, OwnFile: own,
				Store: storeWith(t, "phone.cfg", stored, own, "line.1.user = 1001\n"), Logf: logs.logf}
			cfg, err := p.Boot(ctx)
			if err != nil || cfg.Lines[0].User != "1001" {
				t.Fatalf("Boot = %v, user %q\n%s", err, cfg.Lines[0].User, logs.String())
			}
			if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "using the last good configuration from storage") {
				t.Fatalf("log lacks %q:\n%s", want, logs.String())
			}
			_, err = p.Check(ctx)
			if !errors.Is(err, ErrTLS) || p.Current().Lines[0].User != "1001" {
				t.Fatalf("Check = %v, user %q", err, p.Current().Lines[0].User)
			}
			t.Logf("refused: %v", err)
		})
	}
	refuse("expired", testtool.NginxConfig{CertFile: expired.CertFile, KeyFile: expired.KeyFile}, "the server's certificate (expired) is valid from ")
	refuse("wrong host", testtool.NginxConfig{CertFile: otherName.CertFile, KeyFile: otherName.KeyFile}, "the server's certificate is for prov.example, not for 127.0.0.1")
	refuse("unknown CA", testtool.NginxConfig{CertFile: stranger.CertFile, KeyFile: stranger.KeyFile}, "not signed by a CA the phone trusts")
	refuse("client certificate wanted", testtool.NginxConfig{CertFile: good.CertFile, KeyFile: good.KeyFile, ClientCAFile: ca.File}, "the server wants a client certificate (provision.cert) it accepts: it answered 400 Bad Request (400 No required SSL certificate was sent)")

	t.Run("client certificate shown", func(t *testing.T) {
		bad := testtool.Nginx(t, testtool.NginxConfig{Root: root, CertFile: good.CertFile, KeyFile: good.KeyFile, ClientCAFile: ca.File})
		withCert := storeWith(t, "phone.cfg", "provision.ca = "+b64(ca.Cert.Raw)+"\nprovision.cert = "+b64(client.CertDER)+"\nprovision.key = "+b64(client.KeyDER)+"\n", own, "line.1.user = 1001\n")
		logs.reset()
		p := &Provisioner{Source: URLSource{Loc: Location{Scheme: "https", Host: bad.HTTPS}}, OwnFile: own, Store: withCert, Logf: logs.logf}
		cfg, err := p.Boot(ctx)
		if err != nil || cfg.Lines[0].User != "6666" || strings.Contains(logs.String(), "last good") {
			t.Fatalf("Boot with a client certificate = %v, user %q\n%s", err, cfg.Lines[0].User, logs.String())
		}
	})
}

// storeWith is a Store holding one good configuration.
func storeWith(t *testing.T, kv ...string) *storage.Store {
	t.Helper()
	st := newStore(t)
	f := Files{CommonName: kv[0], Common: []byte(kv[1]), OwnName: kv[2], Own: []byte(kv[3]), From: "test", Fetched: time.Now()}
	if _, err := st.Save(f.marshal()); err != nil {
		t.Fatal(err)
	}
	return st
}

// bodyProgress wraps a transport so that reached is closed once a body
// has given after bytes to its reader.
type bodyProgress struct {
	base    http.RoundTripper
	after   int
	reached chan struct{}
	once    sync.Once
}

func (b *bodyProgress) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.base.RoundTrip(r)
	if err == nil {
		resp.Body = &progressBody{ReadCloser: resp.Body, b: b}
	}
	return resp, err
}

type progressBody struct {
	io.ReadCloser
	b *bodyProgress
	n int
}

func (p *progressBody) Read(buf []byte) (int, error) {
	n, err := p.ReadCloser.Read(buf)
	p.n += n
	if p.n >= p.b.after {
		p.b.once.Do(func() { close(p.b.reached) })
	}
	return n, err
}

// TestHTTPStopsMidTransfer: nginx sends a large common file slowly
// (limit_rate) and is killed part way; the phone says how much it got,
// boots on its last good configuration and keeps it on a resync.
func TestHTTPStopsMidTransfer(t *testing.T) {
	root := t.TempDir()
	big := "line.1.user = 7777\n" + strings.Repeat("# padding to make the file large enough to be slow\n", 12000) // ~600 KB
	writeFiles(t, filepath.Join(root, "big"), "phone.cfg", big)
	n := testtool.Nginx(t, testtool.NginxConfig{Root: root, HTTP: true, Extra: "    location /big/ { limit_rate 64k; }\n"})
	hc, err := NewHTTPClient(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	prog := &bodyProgress{base: hc.Transport, after: 1, reached: make(chan struct{})}
	hc.Transport = prog
	go func() {
		select {
		case <-prog.reached:
			n.Kill()
		case <-t.Context().Done():
		}
	}()
	st := storeWith(t, "phone.cfg", "line.1.user = 1001\n", "", "")
	var logs syncLogs
	p := &Provisioner{Source: URLSource{Loc: Location{Scheme: "http", Host: n.HTTP, Dir: "big"}, HTTP: hc}, Store: st, Logf: logs.logf}
	cfg, err := p.Boot(t.Context())
	if err != nil || cfg.Lines[0].User != "1001" {
		t.Fatalf("Boot = %v, user %q\n%s", err, cfg.Lines[0].User, logs.String())
	}
	t.Logf("boot:\n%s", logs.String())
	want := "http://" + n.HTTP + "/big/phone.cfg: the server closed the connection after "
	if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "of "+strconv.Itoa(len(big))+" bytes") ||
		!strings.Contains(logs.String(), "using the last good configuration from storage (generation 1") {
		t.Fatalf("log lacks %q:\n%s", want, logs.String())
	}
	_, err = p.Check(t.Context())
	t.Logf("resync: %v", err)
	if err == nil || p.Current().Lines[0].User != "1001" || generation(t, st) != 1 {
		t.Fatalf("resync with the server gone = %v, user %q", err, p.Current().Lines[0].User)
	}
}

// TestDownload: the getter the firmware update shares, over http and
// tftp: the bytes, the size limit (before any byte when the server says
// the size), a missing file, a conditional request.
func TestDownload(t *testing.T) {
	root := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	writeFiles(t, root, "image.bin", string(data))
	n := testtool.Nginx(t, testtool.NginxConfig{Root: root, HTTP: true})
	ctx := t.Context()
	url := "http://" + n.HTTP + "/image.bin"
	var b bytes.Buffer
	m, err := Download(ctx, url, &b, 1<<20, nil)
	if err != nil || !bytes.Equal(b.Bytes(), data) || m.Size != int64(len(data)) || m.ETag == "" || m.LastModified == "" {
		t.Fatalf("Download = %+v, %v (%d bytes)", m, err, b.Len())
	}
	b.Reset()
	if _, err := Download(ctx, url, &b, 1000, nil); !errors.Is(err, ErrTooLarge) || b.Len() != 0 {
		t.Errorf("limit: %v, %d bytes written", err, b.Len())
	}
	if _, err := Download(ctx, "http://"+n.HTTP+"/nope.bin", &b, 1000, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	m2, err := Download(ctx, url, &b, 1<<20, &DownloadOptions{Have: m.Validators})
	if err != nil || !m2.NotModified || b.Len() != 0 || m2.ETag != m.ETag {
		t.Errorf("conditional: %+v, %v", m2, err)
	}
	if _, err := Download(ctx, "ftp://"+n.HTTP+"/image.bin", &b, 1<<20, nil); err == nil || !strings.Contains(err.Error(), "tftp, http and https only") {
		t.Errorf("ftp: %v", err)
	}
}

// TestDownloadStall: a server that sends its header and then nothing is
// given up after Stall (a peer of the test's own: nginx cannot stall).
func TestDownloadStall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Read(make([]byte, 4096))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf")
		<-t.Context().Done()
	}()
	var b bytes.Buffer
	_, err = Download(t.Context(), "http://"+ln.Addr().String()+"/x", &b, 1000, &DownloadOptions{Stall: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "nothing received for 200ms") {
		t.Fatalf("stalled download: %v", err)
	}
}

// TestCheckRedirect: https never redirects to http; other schemes and
// long chains are refused.
func TestCheckRedirect(t *testing.T) {
	req := func(s string) *http.Request {
		r, _ := http.NewRequest("GET", s, nil)
		return r
	}
	https := []*http.Request{req("https://a/x")}
	if err := checkRedirect(req("http://a/y"), https); err == nil {
		t.Error("https to http followed")
	}
	if err := checkRedirect(req("https://b/y"), https); err != nil {
		t.Errorf("https to https: %v", err)
	}
	if err := checkRedirect(req("https://b/y"), []*http.Request{req("http://a/x")}); err != nil {
		t.Errorf("http to https: %v", err)
	}
	if err := checkRedirect(req("ftp://b/y"), []*http.Request{req("http://a/x")}); err == nil {
		t.Error("http to ftp followed")
	}
	long := make([]*http.Request, maxRedirects)
	for i := range long {
		long[i] = req("https://a/" + strconv.Itoa(i))
	}
	if err := checkRedirect(req("https://b/y"), long); err == nil {
		t.Error("endless redirects followed")
	}
}

// FuzzErrorPage: what an error answer says is short, one line, and has no
// control characters, whatever the body.
func FuzzErrorPage(f *testing.F) {
	f.Add("<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>")
	f.Add("Forbidden\nmore")
	f.Add("<title>unterminated")
	f.Fuzz(func(t *testing.T, body string) {
		s := errorPage(strings.NewReader(body))
		if len(s) > 512 || strings.ContainsAny(s, "\r\n\t\x00\x7f") {
			t.Fatalf("errorPage(%q) = %q", body, s)
		}
	})
}
