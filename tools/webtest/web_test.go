package webtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/deskphone/deskphone/firmware/storage"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/lab"
)

const password = "web-Test-1"

// TestWebPageQEMU boots a phone in QEMU with admin.password and a state
// disk, and in headless Chromium: logs in (after a wrong password), reads
// the status (firmware version, line 1 registered), watches a call the
// phone makes appear on the status page and then in the call history,
// reads the configuration (its source and generation, the passwords
// masked), and triggers a resync after its own file changed: the phone
// takes the new file, restarts with it (generation 2, the new value
// shown) and serves the same certificate, kept on its disk. Last, a
// factory reset erases both from the disk and reboots the phone.
func TestWebPageQEMU(t *testing.T) {
	testtool.Long(t, "make e2e")
	chromium := testtool.Need(t, "chromium")
	testtool.Need(t, "qemu-system-aarch64")
	shots := os.Getenv("DESKPHONE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	l, err := lab.Start(ctx, lab.Options{Board: lab.QEMU, Exts: []string{"1001"}, Dir: dir, WebPassword: password, Disk: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer func() {
		if t.Failed() {
			console, _ := os.ReadFile(filepath.Join(dir, "console-1001.log"))
			t.Logf("the phone's console:\n%s", console)
		}
	}()
	if _, err := l.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	ph := l.Phones[0]
	f := lab.NewFlow(t, ctx, l)
	certBefore := serverCert(t, ctx, ph.WebURL)

	alloc, stop := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,                               // root in CI containers
		chromedp.Flag("ignore-certificate-errors", true), // the phone's own self-signed certificate
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 800),
	)...)
	defer stop()
	b, closeBrowser := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	defer closeBrowser()
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(b, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(b, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		file := filepath.Join(shots, name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", file)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	login := func() {
		t.Helper()
		run("log in", chromedp.Navigate(ph.WebURL+"/"), chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#password"), password), chromedp.Click(chromedp.CSS("#login")),
			chromedp.WaitVisible(chromedp.CSS("#version")))
	}

	// Every page wants the login; a wrong password is refused.
	run("wrong password", chromedp.Navigate(ph.WebURL+"/config"), chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), "guess"), chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#error")))
	if e := text("#error"); !strings.Contains(e, "Wrong password") {
		t.Fatalf("after a wrong password: %q", e)
	}
	shot("1-login-refused")
	login()
	if v := text("#version"); v != "dev" {
		t.Errorf("firmware version %q", v)
	}
	if b, mac := text("#board"), text("#mac"); b != "qemu" || mac != ph.MAC {
		t.Errorf("board %q, MAC %q (want %s)", b, mac, ph.MAC)
	}
	if ip := text("#ip"); ip != "10.0.2.15" {
		t.Errorf("IP %q", ip)
	}
	if r := text("#reg1"); r != "registered" {
		t.Errorf("line 1: %q", r)
	}
	shot("2-status")

	// A call: 1001 dials 1002, who is not registered, so the development
	// PBX answers it into 1002's mailbox. The status page shows it up,
	// the history after it ended.
	f.Do("1001", "hook off")
	f.Do("1001", "dial 1002")
	f.Expect("1001", `^call \d+ connected`)
	run("status in a call", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#calls")))
	if c := text("#calls"); !strings.Contains(c, "1002") || !strings.Contains(c, "connected") || !strings.Contains(c, "outgoing") {
		t.Errorf("calls table in the call: %q", c)
	}
	shot("3-status-in-call")
	f.HangupAll()
	run("history", chromedp.Navigate(ph.WebURL+"/history"), chromedp.WaitVisible(chromedp.CSS("#history")))
	if h := text("#history"); !regexp.MustCompile(`outgoing\s+.*1002\s+1002\s+answered`).MatchString(h) {
		t.Errorf("history: %q", h)
	}
	shot("4-history")

	run("configuration", chromedp.Navigate(ph.WebURL+"/config"), chromedp.WaitVisible(chromedp.CSS("#keys")))
	if g := text("#generation"); g != "1" {
		t.Errorf("generation %q before the resync", g)
	}
	keys := text("#keys")
	if strings.Contains(keys, password) || strings.Contains(keys, "pw1001") || !regexp.MustCompile(`line\.1\.password\s+\*{8}`).MatchString(keys) {
		t.Errorf("secrets not masked:\n%s", keys)
	}
	if from := text("#from"); from != "tftp://10.0.2.2" {
		t.Errorf("from %q", from)
	}
	shot("5-config")

	// Resync after the phone's own file changed: the phone fetches it,
	// stores it as generation 2 and restarts with it.
	own := filepath.Join(l.TFTPDir(ph.Ext), lab.MACFile(ph.MAC))
	add := "history.size = 30\n"
	old, err := os.ReadFile(own)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(own, append(old, add...), 0o644); err != nil {
		t.Fatal(err)
	}
	run("resync", chromedp.Navigate(ph.WebURL+"/actions"), chromedp.WaitVisible(chromedp.CSS("#resync")),
		chromedp.Click(chromedp.CSS("#resync")), chromedp.WaitVisible(chromedp.CSS("#message")))
	if m := text("#message"); !strings.Contains(m, "Resync requested") {
		t.Errorf("after resync: %q", m)
	}
	shot("6-resync")
	// The phone restarts: its sessions are gone, so the page asks for the
	// login again once it is back.
	for deadline := time.Now().Add(60 * time.Second); ; {
		loc := ""
		err := chromedp.Do(b, chromedp.Navigate(ph.WebURL+"/config"))
		if err == nil {
			loc, err = chromedp.Run(b, chromedp.Location())
		}
		if err == nil && strings.HasSuffix(loc, "/login") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the phone did not restart with the new configuration (last: %q, %v)", loc, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	login()
	run("configuration after the resync", chromedp.Navigate(ph.WebURL+"/config"), chromedp.WaitVisible(chromedp.CSS("#keys")))
	if g := text("#generation"); g != "2" {
		t.Errorf("generation %q after the resync", g)
	}
	if keys := text("#keys"); !regexp.MustCompile(`history\.size\s+30`).MatchString(keys) {
		t.Errorf("history.size not 30 after the resync:\n%s", keys)
	}
	shot("7-config-after-resync")
	if after := serverCert(t, ctx, ph.WebURL); !bytes.Equal(after, certBefore) {
		t.Error("the phone made a new certificate on restart: it was not kept on its disk")
	}

	// Factory reset: refused unconfirmed; confirmed, the phone erases its
	// stored configuration and certificate and reboots (QEMU, run with
	// -no-reboot, ends).
	run("unconfirmed factory reset", chromedp.Navigate(ph.WebURL+"/actions"), chromedp.Click(chromedp.CSS("#reset")),
		chromedp.WaitVisible(chromedp.CSS("#error")))
	run("factory reset", chromedp.Click(chromedp.CSS("#confirm")), chromedp.Click(chromedp.CSS("#reset")))
	// The page saying so is served before the phone goes (rebootGrace);
	// on a slow machine it may be gone first, which is no failure.
	wctx, wcancel := context.WithTimeout(b, 10*time.Second)
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS("#message"))); err == nil {
		shot("8-factory-reset")
	} else {
		t.Logf("the factory reset's page: %v", err)
	}
	wcancel()
	select {
	case <-ph.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the phone did not reboot after the factory reset")
	}
	for _, r := range []storage.Region{storage.ConfigRegion, storage.WebRegion} {
		st, f, err := storage.OpenRegion(ph.Disk, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Load(); !errors.Is(err, storage.ErrEmpty) {
			t.Errorf("the %s is still on the disk after the factory reset: %v", r.Name, err)
		}
		f.Close()
	}
}

// serverCert returns the certificate the web page serves.
func serverCert(t *testing.T, ctx context.Context, url string) []byte {
	t.Helper()
	host := strings.TrimPrefix(url, "https://")
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{InsecureSkipVerify: true}} // read, not trusted
		c, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			last = err
			continue
		}
		defer c.Close()
		return c.(*tls.Conn).ConnectionState().PeerCertificates[0].Raw
	}
	t.Fatal(fmt.Errorf("no TLS from %s: %w", host, last))
	return nil
}
