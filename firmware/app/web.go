package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/firmware/boot"
	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/phone"
	"github.com/deskphone/deskphone/firmware/provision"
	"github.com/deskphone/deskphone/firmware/storage"
	"github.com/deskphone/deskphone/firmware/web"
)

// serveWeb serves the web page (firmware/web) on admin.port until ctx
// ends: HTTPS with the phone's certificate, or plain HTTP with
// admin.http = on. It runs only with an admin.password; a port it cannot
// listen on is logged and the phone goes on without its page. logs and
// sipTrace are its downloads (firmware/diag's rings).
func serveWeb(ctx context.Context, o Options, cfg config.Config, dev web.Device, bindIP, state string,
	prov *provision.Provisioner, ph *phone.Phone, acts *actions, logs, sipTrace io.WriterTo, step func(string, ...any)) {
	srv, err := web.New(web.Options{
		Password: cfg.AdminPassword, Device: dev, Phone: ph,
		Config: func() web.Configuration { return configuration(cfg, prov) },
		Log:    logs, Trace: sipTrace, Actions: acts, Secure: !cfg.AdminHTTP, Logf: o.Logf,
	})
	if err != nil {
		step("web page: %v", err)
		return
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(bindIP, strconv.Itoa(cfg.AdminPort)))
	if err != nil {
		step("web page: %v; the phone goes on without it", err)
		return
	}
	scheme, tlsCert := "http", (*tls.Certificate)(nil)
	if !cfg.AdminHTTP {
		scheme = "https"
		c, err := phoneCert(dev, state, step)
		if err != nil {
			ln.Close()
			step("web page: %v; the phone goes on without it", err)
			return
		}
		tlsCert = &c.Certificate
	}
	host := bindIP
	if len(dev.IPs) > 0 {
		host = dev.IPs[0]
	}
	step("web page on %s://%s/ (the password is admin.password)", scheme, net.JoinHostPort(host, strconv.Itoa(cfg.AdminPort)))
	if err := web.Serve(ctx, ln, srv, tlsCert, o.Logf); err != nil && ctx.Err() == nil {
		step("web page: %v", err)
	}
}

// phoneCert returns the web page's certificate, kept in the state
// device's WebRegion; without one the phone makes a new certificate
// each boot.
func phoneCert(dev web.Device, state string, step func(string, ...any)) (*web.Certificate, error) {
	var ips []net.IP
	for _, a := range dev.IPs {
		if ip := net.ParseIP(a); ip != nil {
			ips = append(ips, ip)
		}
	}
	var cs web.CertStore
	if state != "" {
		st, _, err := storage.OpenRegion(state, storage.WebRegion) // open for the process's lifetime
		if err != nil {
			step("web page: %v; the certificate is not kept", err)
		} else {
			cs = certStore{st}
		}
	}
	c, err := web.Cert(cs, dev.Name, ips, time.Now())
	if err != nil {
		return nil, err
	}
	why := c.Why
	if errors.Is(why, storage.ErrEmpty) {
		why = errors.New("none stored yet")
	}
	switch {
	case c.Made && c.StoreErr != nil:
		step("web page: new certificate (%v); storing it failed: %v", why, c.StoreErr)
	case c.Made:
		step("web page: new certificate, kept on %s (%v)", state, why)
	default:
		step("web page: the certificate kept on %s", state)
	}
	return &c, nil
}

// certStore keeps the certificate in a storage.Store.
type certStore struct{ s *storage.Store }

func (c certStore) Load() ([]byte, error) {
	cp, err := c.s.Load()
	return cp.Data, err
}

func (c certStore) Save(b []byte) error {
	_, err := c.s.Save(b)
	return err
}

// configuration is the running configuration and its source, as the web
// page shows it.
func configuration(cfg config.Config, prov *provision.Provisioner) web.Configuration {
	c := web.Configuration{Entries: cfg.Entries()}
	if prov == nil {
		return c
	}
	st := prov.Status()
	r := st.Running
	files := r.CommonName
	if r.OwnName != "" {
		files += ", " + r.OwnName
	}
	c.Source = web.Source{From: r.From, Files: files, Fetched: r.Fetched, Generation: r.Generation, Stored: r.Stored,
		Checked: st.Checked, Pending: st.Pending}
	if st.CheckErr != nil {
		c.Source.CheckErr = st.CheckErr.Error()
	}
	return c
}

// rebootGrace is how long a reboot asked for on the web page waits before
// it ends the phone: time to serve the page that says it is coming.
const rebootGrace = 2 * time.Second

// actions are the web page's actions, each through the phone's own path:
// resync is the provisioner's (a new configuration waits for idle, then
// restarts phoned); reboot waits for idle the same way, then ends the
// phone and Run reboots; factory reset erases the stored configuration
// and the web certificate, then reboots likewise.
type actions struct {
	ctx    context.Context
	prov   *provision.Provisioner
	idle   func() bool
	stop   func() // ends the phone: Run returns and reboots
	state  string
	logf   func(string, ...any)
	reboot atomic.Bool // set when the phone ends for a reboot
	asked  atomic.Bool // a reboot is waiting for idle
}

func (a *actions) Resync() (string, error) {
	a.prov.Resync()
	return "Resync requested: the phone fetches its configuration now; a new one is applied when no call is up (the phone restarts with it).", nil
}

func (a *actions) Reboot() (string, error) {
	a.rebootWhenIdle("reboot asked on the web page")
	if a.idle() {
		return "The phone reboots now.", nil
	}
	return "The phone reboots when the call ends.", nil
}

func (a *actions) FactoryReset() (string, error) {
	if a.state == "" {
		return "", errors.New("this phone has no state device: nothing is stored to reset")
	}
	var errs []error
	for _, r := range []storage.Region{storage.ConfigRegion, storage.WebRegion} {
		st, f, err := storage.OpenRegion(a.state, r)
		if err == nil {
			err = st.Erase()
			f.Close()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("factory reset: %w", err)
	}
	a.logf("factory reset: the stored configuration and the web certificate are erased")
	a.rebootWhenIdle("factory reset")
	return "Factory reset: the stored configuration and the certificate are erased; the phone reboots when no call is up.", nil
}

// rebootWhenIdle ends the phone for a reboot as soon as it is idle, and
// not before rebootGrace.
func (a *actions) rebootWhenIdle(why string) {
	if a.asked.Swap(true) {
		return
	}
	go func() {
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(rebootGrace):
		}
		if !waitIdle(a.ctx, a.idle) {
			return
		}
		a.logf("%s: rebooting", why)
		a.reboot.Store(true)
		a.stop()
	}()
}

// reboot is what the phone does to reboot: as PID 1 the kernel restarts
// the machine (QEMU, run with -no-reboot, exits); as a process (the sim
// board) phoned starts afresh in place.
func reboot(step func(string, ...any)) error {
	if boot.IsPID1() {
		step("rebooting")
		return boot.Reboot()
	}
	step("restarting phoned (not PID 1: no machine to reboot)")
	return provision.Restart()
}
