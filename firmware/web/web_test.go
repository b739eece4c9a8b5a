package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/phone"
)

// clock is a clock the test steps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) step(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fakePhone struct{ s phone.Snapshot }

func (f fakePhone) Snapshot(context.Context) (phone.Snapshot, error) { return f.s, nil }

type fakeActions struct {
	mu   sync.Mutex
	done []string
}

func (a *fakeActions) add(s string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done = append(a.done, s)
	return s + " under way", nil
}
func (a *fakeActions) Reboot() (string, error)       { return a.add("reboot") }
func (a *fakeActions) Resync() (string, error)       { return a.add("resync") }
func (a *fakeActions) FactoryReset() (string, error) { return a.add("factory-reset") }
func (a *fakeActions) list() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.done, ",")
}

type rig struct {
	t   *testing.T
	s   *Server
	clk *clock
	act *fakeActions
	cfg config.Config
}

func newRig(t *testing.T, edit func(*Options)) *rig {
	t.Helper()
	cfg, _, err := config.Load([]byte("line.1.user = 1001\nline.1.password = linesecret\nline.1.registrar = 10.0.2.2:5060\nadmin.password = adminsecret\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, clk: &clock{t: time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)}, act: &fakeActions{}, cfg: cfg}
	o := Options{
		Password: cfg.AdminPassword,
		Device:   Device{Version: "v1.2.3", Board: "qemu", Name: "deskphone-525400123410", IPs: []string{"10.0.2.15"}, MAC: "52:54:00:12:34:10", Started: r.clk.now().Add(-90 * time.Second)},
		Phone: fakePhone{phone.Snapshot{State: phone.Connected,
			Lines:   []phone.LineView{{Line: 1, User: "1001", Registrar: "10.0.2.2:5060", Reg: "registered", Registered: true}},
			Calls:   []phone.CallView{{ID: 3, Peer: "Ext 1002", State: "connected"}},
			History: []phone.HistoryEntry{{Incoming: true, Peer: "Ext 1003", Number: "1003", Result: "missed", Ended: r.clk.now().Add(-time.Minute)}}}},
		Config: func() Configuration {
			return Configuration{Entries: cfg.Entries(), Source: Source{From: "tftp://10.0.2.2", Files: "phone.cfg, 525400123410.cfg", Generation: 4}}
		},
		Actions: r.act,
		Secure:  true,
		Now:     r.clk.now,
	}
	if edit != nil {
		edit(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	return r
}

// do sends one request from addr (host:port) with the cookie, if any.
func (r *rig) do(method, path, addr, cookie string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	r.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "https://phone"+path, body)
	req.RemoteAddr = addr
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	r.s.ServeHTTP(w, req)
	return w
}

const (
	client     = "192.0.2.7:40000"
	clientHost = "192.0.2.7" // failures are counted by address, whatever the port
)

// login logs in and returns the session cookie.
func (r *rig) login(addr string) string {
	r.t.Helper()
	w := r.do("POST", "/login", addr, "", url.Values{"password": {"adminsecret"}})
	if w.Code != http.StatusSeeOther {
		r.t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			return c.Value
		}
	}
	r.t.Fatal("login set no cookie")
	return ""
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

func (r *rig) csrf(cookie string) string {
	r.t.Helper()
	w := r.do("GET", "/actions", client, cookie, nil)
	m := csrfRE.FindStringSubmatch(w.Body.String())
	if m == nil {
		r.t.Fatalf("no CSRF token on the actions page:\n%s", w.Body)
	}
	return m[1]
}

func TestNoPasswordNoPage(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("a server without a password")
	}
}

func TestLogin(t *testing.T) {
	r := newRig(t, nil)
	for _, p := range []string{"/", "/history", "/config", "/actions", "/log.txt"} {
		if w := r.do("GET", p, client, "", nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
			t.Errorf("GET %s without a session: %d %q", p, w.Code, w.Header().Get("Location"))
		}
	}
	if w := r.do("POST", "/actions/reboot", client, "", url.Values{}); w.Code != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d", w.Code)
	}
	if w := r.do("GET", "/", client, "forged", nil); w.Code != http.StatusSeeOther {
		t.Errorf("GET with a forged cookie: %d", w.Code)
	}
	w := r.do("POST", "/login", client, "", url.Values{"password": {"adminsecreT"}})
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Wrong password") || len(w.Result().Cookies()) != 0 {
		t.Fatalf("wrong password: %d %v\n%s", w.Code, w.Result().Cookies(), w.Body)
	}
	w = r.do("POST", "/login", client, "", url.Values{"password": {"adminsecret"}})
	cs := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cs) != 1 {
		t.Fatalf("login: %d %v", w.Code, cs)
	}
	c := cs[0]
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || len(c.Value) != 64 || c.MaxAge != int(SessionIdle/time.Second) {
		t.Errorf("cookie %+v", c)
	}
	body := r.do("GET", "/", client, c.Value, nil).Body.String()
	for _, want := range []string{"v1.2.3", "qemu", "10.0.2.15", "52:54:00:12:34:10", `<td id="uptime">1m30s</td>`, `id="reg1" class="ok">registered`, "Ext 1002", "connected"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if h := r.do("GET", "/history", client, c.Value, nil).Body.String(); !strings.Contains(h, "Ext 1003") || !strings.Contains(h, "missed") {
		t.Errorf("history page:\n%s", h)
	}
	// Over plain HTTP the cookie cannot be Secure.
	plain := newRig(t, func(o *Options) { o.Secure = false })
	w = plain.do("POST", "/login", client, "", url.Values{"password": {"adminsecret"}})
	if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].Secure || !cs[0].HttpOnly {
		t.Errorf("HTTP cookie %+v", cs)
	}
	// Logging out ends the session.
	tok := r.csrf(c.Value)
	if w := r.do("POST", "/logout", client, c.Value, url.Values{"csrf": {tok}}); w.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", w.Code)
	}
	if w := r.do("GET", "/", client, c.Value, nil); w.Code != http.StatusSeeOther {
		t.Errorf("session alive after logout: %d", w.Code)
	}
}

func TestSessionExpires(t *testing.T) {
	r := newRig(t, nil)
	c := r.login(client)
	r.clk.step(SessionIdle - time.Second)
	if w := r.do("GET", "/", client, c, nil); w.Code != http.StatusOK {
		t.Fatalf("used within SessionIdle: %d", w.Code)
	}
	r.clk.step(SessionIdle - time.Second) // renewed by the last use
	if w := r.do("GET", "/", client, c, nil); w.Code != http.StatusOK {
		t.Fatalf("renewed session: %d", w.Code)
	}
	r.clk.step(SessionIdle)
	if w := r.do("GET", "/", client, c, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("expired session: %d", w.Code)
	}
	// At most MaxSessions: the oldest goes.
	first := r.login(client)
	for range MaxSessions {
		r.clk.step(time.Second)
		r.login(client)
	}
	if w := r.do("GET", "/", client, first, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("the oldest of %d sessions survived", MaxSessions+1)
	}
	if n := len(r.s.sessions.m); n > MaxSessions {
		t.Fatalf("%d sessions", n)
	}
}

// TestBackoff steps the injected clock: the first failure costs nothing,
// then each doubles the wait; an attempt inside the wait is refused
// without the password being looked at; another client is not slowed;
// a success forgets the failures; memory is bounded.
func TestBackoff(t *testing.T) {
	r := newRig(t, nil)
	bad := url.Values{"password": {"guess"}}
	good := url.Values{"password": {"adminsecret"}}
	if w := r.do("POST", "/login", client, "", bad); w.Code != http.StatusUnauthorized {
		t.Fatalf("first failure: %d", w.Code)
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if w := r.do("POST", "/login", client, "", bad); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Try again in "+want.String()) {
			t.Fatalf("failure %d: %d\n%s", i+2, w.Code, w.Body)
		}
		// Too early, even with the right password: refused, not checked.
		r.clk.step(want - time.Millisecond)
		w := r.do("POST", "/login", client, "", good)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" || len(w.Result().Cookies()) != 0 {
			t.Fatalf("attempt inside the %s wait: %d %q", want, w.Code, w.Header().Get("Retry-After"))
		}
		// Another address is not slowed down.
		if w := r.do("POST", "/login", "192.0.2.8:1", "", good); w.Code != http.StatusSeeOther {
			t.Fatalf("another client: %d", w.Code)
		}
		r.clk.step(time.Millisecond)
	}
	// The wait is capped.
	for range 20 {
		r.do("POST", "/login", client, "", bad)
		r.clk.step(MaxBackoff)
	}
	if d := r.s.backoff.wait(clientHost); d != 0 {
		t.Fatalf("wait %s after MaxBackoff", d)
	}
	r.do("POST", "/login", client, "", bad)
	if d := r.s.backoff.wait(clientHost); d != MaxBackoff {
		t.Fatalf("wait %s, want the cap %s", d, MaxBackoff)
	}
	r.clk.step(MaxBackoff)
	r.login(client)
	if d := r.s.backoff.failed(clientHost); d != 0 {
		t.Fatalf("a success did not forget the failures: %s", d)
	}
	// Bounded memory: many addresses, at most MaxClients remembered.
	for i := range MaxClients + 100 {
		r.do("POST", "/login", fmt.Sprintf("198.51.%d.%d:5", i/250, i%250), "", bad)
	}
	if n := r.s.backoff.size(); n > MaxClients {
		t.Fatalf("%d clients remembered", n)
	}
}

func TestCSRF(t *testing.T) {
	r := newRig(t, nil)
	c := r.login(client)
	tok := r.csrf(c)
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  []string
		code int
	}{
		{"no token", url.Values{}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"csrf": {strings.Repeat("0", 64)}}, nil, http.StatusForbidden},
		{"another site", url.Values{"csrf": {tok}}, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"opaque origin", url.Values{"csrf": {tok}}, []string{"Origin", "null"}, http.StatusForbidden},
		{"a cross-site fetch", url.Values{"csrf": {tok}}, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"a same-site fetch of another origin", url.Values{"csrf": {tok}}, []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"right token", url.Values{"csrf": {tok}}, []string{"Origin", "https://phone", "Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
	} {
		w := r.do("POST", "/actions/resync", client, c, tc.form, tc.hdr...)
		if w.Code != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.code)
		}
	}
	if got := r.act.list(); got != "resync" {
		t.Fatalf("actions done: %q", got)
	}
	if b := r.do("GET", "/actions", client, c, nil).Body.String(); !strings.Contains(b, `id="message">resync under way`) {
		t.Errorf("no message after the action:\n%s", b)
	}
	// Another session's token is no good.
	c2 := r.login(client)
	if w := r.do("POST", "/actions/reboot", client, c2, url.Values{"csrf": {tok}}); w.Code != http.StatusForbidden {
		t.Errorf("another session's token: %d", w.Code)
	}
	// A factory reset wants its box ticked.
	if w := r.do("POST", "/actions/factory-reset", client, c, url.Values{"csrf": {tok}}); w.Code != http.StatusBadRequest {
		t.Errorf("unconfirmed reset: %d", w.Code)
	}
	r.do("POST", "/actions/factory-reset", client, c, url.Values{"csrf": {tok}, "confirm": {"yes"}})
	r.do("POST", "/actions/reboot", client, c, url.Values{"csrf": {tok}})
	if got := r.act.list(); got != "resync,factory-reset,reboot" {
		t.Fatalf("actions done: %q", got)
	}
}

// TestMasking: no secret of the configuration reaches any page, and the
// page shows where the configuration came from.
func TestMasking(t *testing.T) {
	r := newRig(t, nil)
	c := r.login(client)
	var all bytes.Buffer
	for _, p := range []string{"/", "/history", "/config", "/actions"} {
		all.WriteString(r.do("GET", p, client, c, nil).Body.String())
	}
	for _, secret := range []string{"linesecret", "adminsecret"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("a page shows %q", secret)
		}
	}
	body := r.do("GET", "/config", client, c, nil).Body.String()
	for _, want := range []string{
		`<td class="k">line.1.password</td><td class="k">********</td>`,
		`<td class="k">admin.password</td><td class="k">********</td>`,
		`<td class="k">line.2.password</td><td class="k default"></td>`,
		`<td class="k">line.1.user</td><td class="k">1001</td>`,
		"tftp://10.0.2.2", `<td id="generation">4</td>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("config page lacks %s", want)
		}
	}
}

type text string

func (t text) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, string(t))
	return int64(n), err
}

func TestDownloads(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Log = text("boot +1ms: hello\n") })
	c := r.login(client)
	w := r.do("GET", "/log.txt", client, c, nil)
	if w.Code != 200 || w.Body.String() != "boot +1ms: hello\n" || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" ||
		w.Header().Get("Content-Disposition") != `attachment; filename="deskphone-log.txt"` {
		t.Fatalf("log: %d %v %q", w.Code, w.Header(), w.Body)
	}
	if w := r.do("GET", "/sip-trace.txt", client, c, nil); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "not available") {
		t.Fatalf("trace without one: %d %q", w.Code, w.Body)
	}
	if b := r.do("GET", "/actions", client, c, nil).Body.String(); !strings.Contains(b, `href="/log.txt"`) || strings.Contains(b, `href="/sip-trace.txt"`) {
		t.Errorf("actions page offers the wrong downloads:\n%s", b)
	}
}

func TestHeaders(t *testing.T) {
	r := newRig(t, nil)
	w := r.do("GET", "/login", client, "", nil)
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if w.Header().Get(k) != v {
			t.Errorf("%s = %q", k, w.Header().Get(k))
		}
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP %q", w.Header().Get("Content-Security-Policy"))
	}
	big := url.Values{"password": {strings.Repeat("x", 2*maxForm)}}
	if w := r.do("POST", "/login", client, "", big); w.Code != http.StatusBadRequest {
		t.Errorf("a form over %d bytes: %d", maxForm, w.Code)
	}
}
