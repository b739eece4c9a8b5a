package app

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/provision"
	"github.com/deskphone/deskphone/firmware/update"
)

// idlePoll is how often a firmware update or a reboot that waits for the
// phone to be idle looks again (as provision.Provisioner.IdlePoll does for
// a configuration).
const idlePoll = 2 * time.Second

// firmwareUpdates confirms the running slot once the phone has
// registered (confirmed is closed), so its boot loader stops counting its
// tries; then, with firmware.url set, it checks the image at once and at
// each provision.resync_minutes, each time when the phone is idle. An
// image installed into the other slot waits for the phone to be idle
// again, then ends the phone (cancel) with the returned flag set: Run
// returns update.ErrRestart and the boot loader starts the new firmware.
func firmwareUpdates(ctx context.Context, o Options, cfg config.Config, base string, idle func() bool,
	confirmed <-chan struct{}, cancel func(), step func(string, ...any)) *atomic.Bool {
	var restart atomic.Bool
	fw := o.Firmware
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-confirmed:
		}
		if ok, err := fw.Confirm(); err != nil {
			step("firmware: confirming %s in slot %s: %v", o.Version, fw.Running, err)
		} else if ok {
			step("firmware: %s in slot %s confirmed", o.Version, fw.Running)
		}
		if cfg.FirmwareURL == "" {
			return
		}
		c, url, err := updateConfig(cfg, base)
		if err != nil {
			step("firmware: %v; no update", err)
			return
		}
		// Images come over https with the provisioning trust
		// (provision.ca, provision.cert) as configuration files do.
		hc, err := provision.NewHTTPClient(cfg)
		if err != nil {
			step("firmware: %v; no update", err)
			return
		}
		fw.Fetch = func(ctx context.Context, url string, w io.Writer, limit int64) error {
			_, err := provision.Download(ctx, url, w, limit, &provision.DownloadOptions{HTTP: hc})
			return err
		}
		for {
			if !waitIdle(ctx, idle) {
				return
			}
			h, err := fw.Install(ctx, c, url)
			switch {
			case err == nil:
				if !waitIdle(ctx, idle) {
					return
				}
				step("firmware: restarting into %s", h.Version)
				restart.Store(true)
				cancel()
				return
			case ctx.Err() != nil:
				return
			case errors.Is(err, update.ErrNotWanted):
				step("firmware: %s: %v", url, err)
			default:
				step("firmware: %v; the phone keeps %s", err, o.Version)
			}
			if cfg.ResyncMinutes == 0 {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(cfg.ResyncMinutes) * time.Minute):
			}
		}
	}()
	return &restart
}

// updateConfig is the configuration's firmware.* as the updater takes it.
func updateConfig(cfg config.Config, base string) (update.Config, string, error) {
	url, err := update.ResolveURL(base, cfg.FirmwareURL)
	if err != nil {
		return update.Config{}, "", err
	}
	c := update.Config{Version: cfg.FirmwareVersion, Tries: cfg.FirmwareTries, ConfirmSeconds: cfg.FirmwareConfirmSeconds}
	key := cfg.FirmwarePublicKey
	if key == "" {
		key = cfg.ProvisionPublicKey
	}
	if key != "" {
		if c.Key, err = provision.ParsePublicKey(key); err != nil {
			return update.Config{}, "", err
		}
	}
	return c, url, nil
}

// waitIdle waits until idle says so; false when ctx ends first.
func waitIdle(ctx context.Context, idle func() bool) bool {
	if idle() {
		return ctx.Err() == nil
	}
	// One timer for the whole wait: a call it waits out allocates
	// nothing for it each poll.
	t := time.NewTimer(idlePoll)
	defer t.Stop()
	for !idle() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			t.Reset(idlePoll)
		}
	}
	return ctx.Err() == nil
}
