package provision

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/deskphone/deskphone/firmware/config"
)

// Validators are what an HTTP server said identifies a file's version
// (RFC 9110 8.8): they are sent back as If-None-Match and
// If-Modified-Since, so an unchanged file is answered 304 and not sent
// again. Empty for TFTP.
type Validators struct {
	ETag         string
	LastModified string
}

// Meta is what Download learnt about a file besides its bytes.
type Meta struct {
	URL  string // the file's URL, after any redirect
	Size int64  // bytes written
	Validators
	// NotModified: the server answered 304 to the Have validators;
	// nothing was written and the caller's copy is current.
	NotModified bool
}

// ErrTLS is wrapped by every refusal of an https server for its TLS:
// its certificate (expired, for another name, from an unknown CA), a
// handshake it failed, a client certificate it refused.
var ErrTLS = errors.New("provision: TLS refused")

// ErrNotModified is returned by ConditionalSource.GetIfChanged when the
// server says the file is the one the phone has.
var ErrNotModified = errors.New("provision: not modified")

// DownloadOptions are Download's knobs; the zero value works.
type DownloadOptions struct {
	// HTTP is the client for http:// and https://; nil: one built by
	// NewHTTPClient with the system roots and no client certificate.
	HTTP *http.Client
	// TFTP is the client for tftp://; nil: the defaults.
	TFTP *Client
	// Have, when set, are the validators of the copy the caller has: a
	// server that still has that version answers 304 (Meta.NotModified).
	Have Validators
	// Stall is how long a transfer may go without a byte before it is
	// given up; 0: StallTimeout. A whole download has no time limit but
	// ctx's (an 11 MB firmware image on a slow link takes a while).
	Stall time.Duration
}

// StallTimeout is how long an HTTP download may receive nothing before it
// is given up.
const StallTimeout = 30 * time.Second

// Download fetches rawURL (tftp://, http:// or https://) into w: at most
// limit bytes (ErrTooLarge beyond, checked against Content-Length or tsize
// before any byte when the server says the size), a missing file
// (TFTP error 1, HTTP 404 or 410) wraps ErrNotFound, a TLS refusal wraps
// ErrTLS and says why in plain words. On an error w may hold part of the
// file: the caller throws it away (write to a temporary place, then
// commit). Configuration files and firmware images both come through
// here.
func Download(ctx context.Context, rawURL string, w io.Writer, limit int64, o *DownloadOptions) (Meta, error) {
	if o == nil {
		o = &DownloadOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return Meta{}, fmt.Errorf("provision: %q is not a URL with a host", rawURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "tftp":
		c := o.TFTP
		if c == nil {
			c = &Client{}
		}
		n, err := c.GetTo(ctx, u.Host, strings.TrimPrefix(u.Path, "/"), w, limit)
		return Meta{URL: rawURL, Size: n}, err
	case "http", "https":
		return httpGet(ctx, u, w, limit, o)
	}
	return Meta{}, fmt.Errorf("provision: %s: the phone fetches over tftp, http and https only", rawURL)
}

func httpGet(ctx context.Context, u *url.URL, w io.Writer, limit int64, o *DownloadOptions) (Meta, error) {
	c := o.HTTP
	if c == nil {
		var err error
		if c, err = NewHTTPClient(config.Config{}); err != nil {
			return Meta{}, err
		}
	}
	stall := o.Stall
	if stall <= 0 {
		stall = StallTimeout
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The watchdog is armed while waiting for the answer and re-armed by
	// every read: a server that stops sending ends the download.
	stalled := fmt.Errorf("provision: %s: nothing received for %s", u.Redacted(), stall)
	dog := time.AfterFunc(stall, func() { cancel(stalled) })
	defer dog.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Meta{}, fmt.Errorf("provision: %w", err)
	}
	if o.Have.ETag != "" {
		req.Header.Set("If-None-Match", o.Have.ETag)
	}
	if o.Have.LastModified != "" {
		req.Header.Set("If-Modified-Since", o.Have.LastModified)
	}
	req.Header.Set("User-Agent", "deskphone")
	resp, err := c.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause == stalled {
			return Meta{}, stalled
		}
		return Meta{}, httpError(u, err)
	}
	defer resp.Body.Close()
	m := Meta{URL: resp.Request.URL.String()}
	m.ETag, m.LastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	switch {
	case resp.StatusCode == http.StatusNotModified && o.Have != (Validators{}):
		m.NotModified = true
		m.Validators = o.Have
		if m.ETag != "" {
			m.Validators.ETag = m.ETag
		}
		return m, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return Meta{}, fmt.Errorf("provision: %s: %s: %w", m.URL, resp.Status, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		why := errorPage(resp.Body)
		if u.Scheme == "https" && resp.StatusCode == http.StatusBadRequest && strings.Contains(why, "SSL certificate") {
			// nginx's answer to a missing or refused client certificate
			return Meta{}, fmt.Errorf("%w: %s: the server wants a client certificate (provision.cert) it accepts: it answered %s (%s)", ErrTLS, m.URL, resp.Status, why)
		}
		if why != "" {
			return Meta{}, fmt.Errorf("provision: %s: the server answered %s (%s)", m.URL, resp.Status, why)
		}
		return Meta{}, fmt.Errorf("provision: %s: the server answered %s", m.URL, resp.Status)
	}
	if resp.ContentLength > limit {
		return Meta{}, fmt.Errorf("provision: %s: %w: %d bytes, at most %d allowed", m.URL, ErrTooLarge, resp.ContentLength, limit)
	}
	r := &watchedReader{r: io.LimitReader(resp.Body, limit+1), dog: dog, stall: stall}
	m.Size, err = io.Copy(w, r)
	switch {
	case context.Cause(ctx) == stalled:
		return Meta{}, stalled
	case err != nil && !r.readErr:
		return Meta{}, fmt.Errorf("provision: %s: writing: %w", m.URL, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Meta{}, fmt.Errorf("provision: %s: the server closed the connection after %d of %d bytes", m.URL, m.Size, resp.ContentLength)
	case err != nil:
		return Meta{}, fmt.Errorf("provision: %s: after %d bytes: %w", m.URL, m.Size, httpError(u, err))
	case m.Size > limit:
		return Meta{}, fmt.Errorf("provision: %s: %w: more than %d bytes", m.URL, ErrTooLarge, limit)
	}
	return m, nil
}

// errorPage is what an error answer says, briefly: the title of an HTML
// page (nginx: "400 No required SSL certificate was sent"), else its first
// line; at most 512 bytes are read.
func errorPage(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, 512))
	s := string(b)
	if i := strings.Index(s, "<title>"); i >= 0 {
		s = s[i+len("<title>"):]
		if j := strings.Index(s, "</title>"); j >= 0 {
			s = s[:j]
		}
	} else if strings.Contains(s, "<") {
		return ""
	}
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return -1 // control characters, bytes that are not UTF-8
		}
		return r
	}, strings.TrimSpace(s))
}

// watchedReader re-arms the stall watchdog on every read that brings
// bytes, and notes whether an error came from reading (not writing).
type watchedReader struct {
	r       io.Reader
	dog     *time.Timer
	stall   time.Duration
	readErr bool
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.dog.Reset(w.stall)
	}
	if err != nil && err != io.EOF {
		w.readErr = true
	}
	return n, err
}

// httpError words a failed request; a TLS failure wraps ErrTLS.
func httpError(u *url.URL, err error) error {
	if why, ok := tlsWords(err); ok {
		return fmt.Errorf("%w: %s: %s", ErrTLS, u.Redacted(), why)
	}
	return fmt.Errorf("provision: %s: %w", u.Redacted(), unwrapURLError(err))
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// tlsWords says in plain words why a TLS connection was refused; ok is
// false when err is not about TLS.
func tlsWords(err error) (string, bool) {
	var (
		inv     x509.CertificateInvalidError
		host    x509.HostnameError
		unknown x509.UnknownAuthorityError
		verify  *tls.CertificateVerificationError
		alert   tls.AlertError
		record  tls.RecordHeaderError
		redir   *redirectError
	)
	switch {
	case errors.As(err, &redir):
		return "", false
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		c := inv.Cert
		return fmt.Sprintf("the server's certificate (%s) is valid from %s to %s, and it is now %s: expired or not yet valid",
			c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339)), true
	case errors.As(err, &inv):
		return "the server's certificate is not valid: " + inv.Error(), true
	case errors.As(err, &host):
		names := host.Certificate.DNSNames
		for _, ip := range host.Certificate.IPAddresses {
			names = append(names, ip.String())
		}
		if len(names) == 0 {
			names = []string{host.Certificate.Subject.CommonName}
		}
		return fmt.Sprintf("the server's certificate is for %s, not for %s", strings.Join(names, ", "), host.Host), true
	case errors.As(err, &unknown):
		return "the server's certificate is not signed by a CA the phone trusts (provision.ca, or the system roots when it is empty)", true
	case errors.As(err, &verify):
		return "the server's certificate does not check out: " + verify.Err.Error(), true
	case errors.As(err, &alert):
		return fmt.Sprintf("the server refused the TLS handshake (alert: %v); does it want a client certificate (provision.cert)?", alert), true
	case errors.As(err, &record):
		return "the server does not speak TLS on that port", true
	case strings.Contains(err.Error(), "remote error: tls: "):
		return fmt.Sprintf("the server refused the TLS connection (%v); does it want a client certificate (provision.cert)?", unwrapURLError(err)), true
	case strings.Contains(err.Error(), "tls: "):
		return "the TLS handshake failed: " + unwrapURLError(err).Error(), true
	}
	return "", false
}

// redirectError is a redirect the client refuses.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// maxRedirects bounds how often one download is redirected.
const maxRedirects = 5

// checkRedirect follows at most maxRedirects redirects, never from https
// to anything else (a downgrade would drop the server check), and only to
// http or https.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return &redirectError{fmt.Sprintf("provision: more than %d redirects", maxRedirects)}
	}
	from, to := via[0].URL, req.URL
	switch {
	case to.Scheme != "http" && to.Scheme != "https":
		return &redirectError{fmt.Sprintf("provision: %s redirects to %s: not http or https", from.Redacted(), to.Redacted())}
	case from.Scheme == "https" && to.Scheme != "https":
		return &redirectError{fmt.Sprintf("provision: %s redirects to %s: refusing to leave https", from.Redacted(), to.Redacted())}
	}
	return nil
}

// NewHTTPClient builds the client the phone fetches with over http and
// https, trusting cfg's provision.ca (else the system roots) and showing
// cfg's provision.cert when a server asks. It is bounded: 10 s to connect
// and to shake hands, 15 s for the answer's header, a few idle
// connections kept 30 s, no proxy from the environment, redirects as
// checkRedirect allows; the body is bounded by Download (size, stall).
func NewHTTPClient(cfg config.Config) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.ProvisionCA != "" {
		cas, err := config.ParseCertificates(cfg.ProvisionCA)
		if err != nil {
			return nil, fmt.Errorf("provision: provision.ca: %w", err)
		}
		pool := x509.NewCertPool()
		for _, c := range cas {
			pool.AddCert(c)
		}
		tc.RootCAs = pool
	}
	if cfg.ProvisionCert != "" {
		certs, err := config.ParseCertificates(cfg.ProvisionCert)
		if err != nil {
			return nil, fmt.Errorf("provision: provision.cert: %w", err)
		}
		key, err := config.ParsePrivateKey(cfg.ProvisionKey)
		if err != nil {
			return nil, fmt.Errorf("provision: provision.key: %w", err)
		}
		cert := tls.Certificate{PrivateKey: key, Leaf: certs[0]}
		for _, c := range certs {
			cert.Certificate = append(cert.Certificate, c.Raw)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tc,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  15 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           2,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect}, nil
}

// clientCache keeps the HTTP client of the trust a configuration names, so
// one fetch's files share a connection and a new client is built only
// when provision.ca, .cert or .key change.
type clientCache struct {
	mu     sync.Mutex
	key    string
	client *http.Client
}

func (c *clientCache) get(cfg config.Config) (*http.Client, error) {
	k := cfg.ProvisionCA + "\x00" + cfg.ProvisionCert + "\x00" + cfg.ProvisionKey
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil && c.key == k {
		return c.client, nil
	}
	hc, err := NewHTTPClient(cfg)
	if err != nil {
		return nil, err
	}
	if c.client != nil {
		c.client.CloseIdleConnections()
	}
	c.key, c.client = k, hc
	return hc, nil
}
