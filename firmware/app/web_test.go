package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/firmware/storage"
	"github.com/deskphone/deskphone/internal/testtool"
)

// TestSimWebPage runs a sim phone with admin.password: its page answers
// over HTTPS with a certificate that is kept across a restart, shows the
// phone's line, and without admin.password nothing listens.
func TestSimWebPage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "phone.cfg")
	port := testtool.Port(t)
	sip := testtool.Port(t)
	rtp := testtool.EvenPorts(t, 4) // the test's ports may fall in the default RTP range: give it its own
	base := fmt.Sprintf("line.1.user = 1001\nsip.port = %d\nadmin.port = %d\nrtp.port_min = %d\nrtp.port_max = %d\n", sip, port, rtp, rtp+3)
	logs := make(chan string, 1000)
	logf := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		select {
		case logs <- s:
		default:
		}
		t.Log(s)
	}
	// run starts the phone with cfg and waits until its log says want
	// (the web page listens, or says it is off).
	run := func(cfg, want string) (stop func()) {
		t.Helper()
		for len(logs) > 0 { // the last run's
			<-logs
		}
		writeFile(t, file, cfg)
		b, _ := boards.ByName("sim")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, Options{Board: b, Version: "v-test", ConfigFile: file, Panel: "unix:" + filepath.Join(dir, "p.sock"), Logf: logf})
		}()
		for seen := false; !seen; {
			select {
			case l := <-logs:
				seen = strings.Contains(l, want)
			case err := <-done:
				cancel()
				t.Fatalf("the phone ended before %q: %v", want, err)
			case <-time.After(30 * time.Second):
				cancel()
				t.Fatalf("the phone did not say %q", want)
			}
		}
		return func() {
			cancel()
			// Ended by its context, Run may still say the user agent
			// stopped (it closes first at times): not this test's concern.
			if err := <-done; err != nil {
				t.Logf("Run: %v", err)
			}
		}
	}
	var seen [][]byte // the certificates served
	client := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // self-signed: checked below by hand
			VerifyConnection: func(cs tls.ConnectionState) error {
				seen = append(seen, cs.PeerCertificates[0].Raw)
				return nil
			}}}}
	}
	url0 := fmt.Sprintf("https://127.0.0.1:%d", port)
	login := func() string {
		resp, err := client().PostForm(url0+"/login", url.Values{"password": {"s3cret"}})
		if err != nil {
			t.Fatalf("no web page: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(body)
	}

	listening := fmt.Sprintf("web page on https://127.0.0.1:%d/", port)
	stop := run(base+"admin.password = s3cret\n", listening)
	body := login()
	stop()
	if !strings.Contains(body, `<td id="version">v-test</td>`) || !strings.Contains(body, "<td>1001</td>") {
		t.Fatalf("status page:\n%s", body)
	}
	stop = run(base+"admin.password = s3cret\n", listening)
	login()
	stop()
	if len(seen) != 2 || !bytes.Equal(seen[0], seen[1]) {
		t.Fatalf("%d certificates; the same one after a restart: %v", len(seen), len(seen) == 2 && bytes.Equal(seen[0], seen[1]))
	}
	// admin.http = on: plain HTTP, and its cookie is not Secure.
	stop = run(base+"admin.password = s3cret\nadmin.http = on\n", fmt.Sprintf("web page on http://127.0.0.1:%d/", port))
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(fmt.Sprintf("http://127.0.0.1:%d/login", port), url.Values{"password": {"s3cret"}})
	stop()
	if err != nil {
		t.Fatalf("no HTTP page: %v", err)
	}
	resp.Body.Close()
	if cs := resp.Cookies(); resp.StatusCode != http.StatusSeeOther || len(cs) != 1 || cs[0].Secure {
		t.Fatalf("HTTP login: %d %v", resp.StatusCode, cs)
	}
	// Without a password the port stays closed.
	stop = run(base, "web page: off (no admin.password)")
	defer stop()
	if _, err := client().Get(url0 + "/login"); err == nil {
		t.Fatal("a page without admin.password")
	}
}

// TestFactoryReset erases the stored configuration and the certificate,
// and ends the phone for a reboot once it is idle.
func TestFactoryReset(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	for _, r := range []storage.Region{storage.ConfigRegion, storage.WebRegion} {
		st, f, err := storage.OpenRegion(state, r)
		if err != nil {
			t.Fatal(err)
		}
		st.Save([]byte("kept"))
		f.Close()
	}
	var idle atomic.Bool
	stopped := make(chan struct{})
	a := &actions{ctx: context.Background(), idle: idle.Load, stop: func() { close(stopped) }, state: state, logf: t.Logf}
	if _, err := a.FactoryReset(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []storage.Region{storage.ConfigRegion, storage.WebRegion} {
		st, f, err := storage.OpenRegion(state, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Load(); !errors.Is(err, storage.ErrEmpty) {
			t.Errorf("%s after the reset: %v", r.Name, err)
		}
		f.Close()
	}
	if a.reboot.Load() {
		t.Fatal("rebooted during a call")
	}
	idle.Store(true)
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("no reboot once idle")
	}
	if !a.reboot.Load() {
		t.Fatal("the phone ended without the reboot flag")
	}
	if _, err := (&actions{}).FactoryReset(); err == nil {
		t.Error("a reset without a state device")
	}
}
