package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/phone"
)

// Device is what the status page says about the phone itself.
type Device struct {
	Version string // firmware version
	Board   string
	Name    string // host name, as in the certificate
	IPs     []string
	MAC     string
	Started time.Time // when phoned started: uptime
}

// Phone is what the pages read of the phone; *phone.Phone has it.
type Phone interface {
	Snapshot(ctx context.Context) (phone.Snapshot, error)
}

// Configuration is the running configuration and where it came from.
type Configuration struct {
	Entries []config.Entry // masked (config.Config.Entries)
	Source  Source
}

// Source is where the running configuration came from and how the last
// resync went (the provisioner's Status, in words).
type Source struct {
	From       string // tftp://10.0.2.2, a folder
	Files      string // phone.cfg, 525400123456.cfg
	Fetched    time.Time
	Generation uint64 // storage generation; 0: not kept
	Stored     bool   // the phone fell back to the stored configuration at boot
	Checked    time.Time
	CheckErr   string // "" = the last resync worked
	Pending    bool   // a new configuration waits for the phone to be idle
}

// Actions are what the actions page does, each through the phone's own
// path; each returns once the action is under way (the phone waits for
// idle where it does for a new configuration) and says what happens.
type Actions interface {
	Reboot() (string, error)
	Resync() (string, error)
	FactoryReset() (string, error)
}

// Options build a Server.
type Options struct {
	// Password is admin.password; New refuses an empty one.
	Password string
	Device   Device
	Phone    Phone
	Config   func() Configuration
	// Log and Trace are the recent log and the SIP trace, offered as
	// text/plain downloads; nil: the page says they are not available.
	Log, Trace io.WriterTo
	Actions    Actions
	// Secure: the server runs over HTTPS, and its cookies say so.
	Secure bool
	Now    func() time.Time // default time.Now; tests step it
	Logf   func(format string, args ...any)
}

// Server is the web page's handler.
type Server struct {
	o        Options
	sessions *sessions
	backoff  *backoff
	mux      *http.ServeMux
	cop      *http.CrossOriginProtection
}

//go:embed pages.html
var pagesFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + round(now.Sub(t)) + " ago)"
	},
	"dur": round,
}).ParseFS(pagesFS, "pages.html"))

func round(d time.Duration) string {
	if d < time.Hour {
		return d.Truncate(time.Second).String()
	}
	return d.Truncate(time.Minute).String()
}

// CookieName is the session cookie's name.
const CookieName = "deskphone_session"

// maxForm bounds a form's body.
const maxForm = 4 << 10

// New returns the web page over o.
func New(o Options) (*Server, error) {
	if o.Password == "" {
		return nil, errors.New("web: no admin.password: no web page")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	s := &Server{o: o, sessions: newSessions(o.Now), backoff: newBackoff(o.Now), mux: http.NewServeMux(), cop: http.NewCrossOriginProtection()}
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.auth(s.logout))
	s.mux.HandleFunc("GET /{$}", s.auth(s.phonePage("Status", "status")))
	s.mux.HandleFunc("GET /history", s.auth(s.phonePage("Call history", "history")))
	s.mux.HandleFunc("GET /config", s.auth(s.config))
	s.mux.HandleFunc("GET /log.txt", s.auth(s.download("log", "deskphone-log.txt", func() io.WriterTo { return s.o.Log })))
	s.mux.HandleFunc("GET /sip-trace.txt", s.auth(s.download("SIP trace", "deskphone-sip-trace.txt", func() io.WriterTo { return s.o.Trace })))
	s.mux.HandleFunc("GET /actions", s.auth(s.actions))
	s.mux.HandleFunc("POST /actions/{action}", s.auth(s.act))
	return s, nil
}

// ServeHTTP serves the pages with headers that keep them out of frames,
// caches and other sites' scripts.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	// No Strict-Transport-Security: a phone switched to admin.http = on
	// would stay unreachable in every browser that saw it.
	if r.Method == http.MethodPost {
		// Go's check (Sec-Fetch-Site, else Origin against Host) before
		// the session's CSRF token (auth).
		if err := s.cop.Check(r); err != nil {
			http.Error(w, "web: a form from another site", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	}
	s.mux.ServeHTTP(w, r)
}

// page is what every page's template gets.
type page struct {
	Title   string
	Now     time.Time
	CSRF    string // "" on the login page
	Device  Device
	Message string
	Error   string
	Data    any
}

func (s *Server) render(w http.ResponseWriter, code int, name string, p page) {
	p.Now = s.o.Now()
	p.Device = s.o.Device
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, p); err != nil {
		s.o.Logf("web: page %s: %v", name, err)
		http.Error(w, "web: the page failed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(code)
	io.WriteString(w, b.String())
}

// clientAddr is the address failed logins are counted by.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.current(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "login", page{Title: "Log in"})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	addr := clientAddr(r)
	if d := s.backoff.wait(addr); d > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int((d+time.Second-1)/time.Second)))
		s.render(w, http.StatusTooManyRequests, "login", page{Title: "Log in", Error: fmt.Sprintf("Too many failed logins: try again in %s.", round(d+time.Second-1))})
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "web: bad form", http.StatusBadRequest)
		return
	}
	if !equal(r.PostForm.Get("password"), s.o.Password) {
		d := s.backoff.failed(addr)
		s.o.Logf("web: failed login from %s; its next attempt in %s", addr, d)
		msg := "Wrong password."
		if d > 0 {
			msg += fmt.Sprintf(" Try again in %s.", round(d))
		}
		s.render(w, http.StatusUnauthorized, "login", page{Title: "Log in", Error: msg})
		return
	}
	s.backoff.succeeded(addr)
	t, _ := s.sessions.start()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: t, Path: "/", HttpOnly: true, Secure: s.o.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(SessionIdle / time.Second)})
	s.o.Logf("web: login from %s", addr)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) current(r *http.Request) *session {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	return s.sessions.get(c.Value)
}

type sessionKey struct{}

// auth lets only a live session through: a GET without one goes to the
// login page, a POST without one or without its CSRF token is refused.
func (s *Server) auth(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x := s.current(r)
		if x == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "web: not logged in", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "web: bad form", http.StatusBadRequest)
				return
			}
			if !equal(r.PostForm.Get("csrf"), x.csrf) {
				http.Error(w, "web: the form's CSRF token is wrong (reload the page)", http.StatusForbidden)
				return
			}
		}
		h(w, r, x)
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	if c, err := r.Cookie(CookieName); err == nil {
		s.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Path: "/", HttpOnly: true, Secure: s.o.Secure, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// snapshot asks the phone for its state, bounded: a page never hangs on
// a phone that is busy restarting.
func (s *Server) snapshot(r *http.Request) (phone.Snapshot, error) {
	if s.o.Phone == nil {
		return phone.Snapshot{}, errors.New("the phone is not running")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	return s.o.Phone.Snapshot(ctx)
}

// phonePage renders a page of the phone's Snapshot (status, history).
func (s *Server) phonePage(title, name string) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, x *session) {
		snap, err := s.snapshot(r)
		p := page{Title: title, CSRF: x.csrf, Data: snap}
		if err != nil {
			p.Error = err.Error()
		}
		s.render(w, http.StatusOK, name, p)
	}
}

func (s *Server) config(w http.ResponseWriter, r *http.Request, x *session) {
	var c Configuration
	if s.o.Config != nil {
		c = s.o.Config()
	}
	s.render(w, http.StatusOK, "config", page{Title: "Configuration", CSRF: x.csrf, Data: c})
}

// download serves a log as a text/plain attachment.
func (s *Server) download(what, file string, src func() io.WriterTo) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, _ *session) {
		wt := src()
		if wt == nil {
			http.Error(w, "web: the "+what+" is not available on this phone", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
		if _, err := wt.WriteTo(w); err != nil {
			s.o.Logf("web: %s download: %v", what, err)
		}
	}
}

// logs says which downloads the actions page offers.
type logs struct{ Log, Trace bool }

func (s *Server) actions(w http.ResponseWriter, r *http.Request, x *session) {
	s.render(w, http.StatusOK, "actions", page{Title: "Actions", CSRF: x.csrf, Data: logs{s.o.Log != nil, s.o.Trace != nil}, Message: s.sessions.takeFlash(x)})
}

func (s *Server) act(w http.ResponseWriter, r *http.Request, x *session) {
	if s.o.Actions == nil {
		http.Error(w, "web: no actions on this phone", http.StatusNotFound)
		return
	}
	var (
		msg string
		err error
	)
	name := r.PathValue("action")
	switch name {
	case "reboot":
		msg, err = s.o.Actions.Reboot()
	case "resync":
		msg, err = s.o.Actions.Resync()
	case "factory-reset":
		if r.PostForm.Get("confirm") != "yes" {
			s.render(w, http.StatusBadRequest, "actions", page{Title: "Actions", CSRF: x.csrf, Data: logs{s.o.Log != nil, s.o.Trace != nil},
				Error: "Tick the box to confirm the factory reset."})
			return
		}
		msg, err = s.o.Actions.FactoryReset()
	default:
		http.NotFound(w, r)
		return
	}
	s.o.Logf("web: %s from %s: %s %v", name, clientAddr(r), msg, err)
	if err != nil {
		s.render(w, http.StatusInternalServerError, "actions", page{Title: "Actions", CSRF: x.csrf, Data: logs{s.o.Log != nil, s.o.Trace != nil}, Error: err.Error()})
		return
	}
	s.sessions.setFlash(x, msg)
	http.Redirect(w, r, "/actions", http.StatusSeeOther)
}
