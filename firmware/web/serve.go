package web

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/netutil"
)

// logWriter turns the http.Server's error log (TLS handshakes a browser
// broke off over the self-signed certificate, bad requests) into the
// phone's log lines.
type logWriter func(format string, args ...any)

func (l logWriter) Write(b []byte) (int, error) {
	l("web: %s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// MaxConns bounds the connections the phone serves at once.
const MaxConns = 8

// Serve serves h on ln (over TLS with cert when cert is not nil) until ctx
// ends, then closes it. Slow or idle clients are cut off, and at most
// MaxConns are served at once: a phone's web page is for one
// administrator, not a crowd.
// logf (nil: the standard logger) gets the server's own errors.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, cert *tls.Certificate, logf func(string, ...any)) error {
	ln = netutil.LimitListener(ln, MaxConns)
	if cert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12})
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}
	if logf != nil {
		srv.ErrorLog = log.New(logWriter(logf), "", 0)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			srv.Shutdown(sctx)
			cancel()
			srv.Close()
		case <-done:
		}
	}()
	err := srv.Serve(ln)
	close(done)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
