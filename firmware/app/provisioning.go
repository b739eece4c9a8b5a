package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/netboot"
	"github.com/deskphone/deskphone/firmware/phone"
	"github.com/deskphone/deskphone/firmware/provision"
	"github.com/deskphone/deskphone/firmware/storage"
)

// upNetwork brings the wired interface (netboot.Wired: eth0 on QEMU and a
// Pi 4, a USB adapter on a Zero 2 W) up with DHCP, retrying until it works:
// a desk phone without a network has nothing else to do.
func upNetwork(ctx context.Context, step func(string, ...any)) (netboot.Lease, error) {
	backoff := time.Second
	for {
		lease, err := netboot.Up(ctx, "", step)
		if err == nil {
			step("network: %s on %s, router %s, provisioning server %s://%s (%s), boot file %q",
				lease.Addr.String(), lease.Interface, lease.Router, lease.Scheme, lease.Server, lease.ServerSource, lease.BootFile)
			return lease, nil
		}
		step("network: %v; retrying in %s", err, backoff)
		select {
		case <-ctx.Done():
			return netboot.Lease{}, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// provisionConfig gets the configuration the phone boots with. On the qemu
// and Pi boards (lease set) it comes from the server the lease names
// (options 66, 150, 160, 43, siaddr) over TFTP, HTTP or HTTPS, or from the
// stored configuration's provision.url; the last good one is kept on the
// board's state device (/dev/vda in QEMU, SD card partition 2 on a Pi)
// when it has one; it retries until it has one; fetches are spread over
// provision.spread_seconds (a phone with a stored configuration starts on
// it). On the sim board it is read from o.ConfigFile, at once, and the last
// good one is kept in <ConfigFile>.state. A file that cannot be fetched or
// is refused leaves the phone on the stored last good configuration.
//
// It also returns the state device's path ("" = none), where the web
// page keeps its certificate (storage.WebRegion).
func provisionConfig(ctx context.Context, o Options, lease *netboot.Lease, step func(string, ...any)) (*provision.Provisioner, config.Config, string, error) {
	p := &provision.Provisioner{Logf: step}
	state := o.ConfigFile + ".state"
	if lease != nil {
		if lease.Server == "" {
			return nil, config.Config{}, "", errors.New("app: DHCP named no provisioning server (options 66, 150, 160, 43, siaddr)")
		}
		p.Source = leaseSource(*lease)
		p.CommonFile, p.OwnFile = lease.BootFile, provision.OwnFile(lease.MAC)
		p.Spread = true
		state = o.Board.StateDevice
		if _, err := os.Stat(state); state == "" || err != nil {
			step("provisioning: no state device (%q); the last good configuration is not kept", state)
			state = ""
		}
	} else {
		p.Source = provision.DirSource{Dir: filepath.Dir(o.ConfigFile)}
		p.CommonFile = filepath.Base(o.ConfigFile)
	}
	if state != "" {
		st, _, err := storage.Open(state) // open for the process's lifetime
		if err != nil {
			step("provisioning: %v; the last good configuration is not kept", err)
		} else {
			p.Store = st
			step("provisioning: the last good configuration is kept on %s", state)
		}
	}
	backoff := time.Second
	for {
		cfg, err := p.Boot(ctx)
		if err == nil {
			return p, cfg, state, nil
		}
		if lease == nil {
			return nil, config.Config{}, "", err
		}
		step("provisioning: %v; retrying in %s", err, backoff)
		select {
		case <-ctx.Done():
			return nil, config.Config{}, "", ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 60*time.Second)
	}
}

// leaseSource is where the lease says the files are.
func leaseSource(l netboot.Lease) provision.Source {
	scheme := l.Scheme
	if scheme == "" {
		scheme = "tftp"
	}
	return provision.URLSource{Loc: provision.Location{Scheme: scheme, Host: l.Server, Dir: l.ConfigDir}}
}

// resync runs the provisioner's periodic and triggered resyncs while the
// phone runs. A new configuration waits until the phone is idle, then ends
// the phone (cancel) and the returned flag is set: Run restarts phoned,
// which boots with it.
func resync(ctx context.Context, p *provision.Provisioner, ph *phone.Phone, cancel func()) *atomic.Bool {
	var newConfig atomic.Bool
	p.Idle = ph.Idle
	p.Apply = func(config.Config) {
		newConfig.Store(true)
		cancel()
	}
	go p.Run(ctx)
	return &newConfig
}
