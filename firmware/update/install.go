package update

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strings"

	"github.com/deskphone/deskphone/firmware/provision"

	"github.com/deskphone/deskphone/firmware/version"
)

// ErrRestart is returned by the phone when it has installed a new
// firmware and the boot loader must start it: PID 1 restarts itself, a
// slot's phoned exits so its boot loader goes on.
var ErrRestart = errors.New("update: restart into the new firmware")

// ErrNotWanted is wrapped when an image is fine but not for this phone
// now: not newer, not the version the configuration names, already
// running, or failed before. The download stops after the header.
var ErrNotWanted = errors.New("update: image not wanted")

// Config is what the configuration says about updates (firmware.*).
type Config struct {
	URL string // where the image is; relative to the provisioning server's folder
	// Version pins one version: only an image of exactly it is taken,
	// older than the running one or not. "": any newer image.
	Version        string
	Key            ed25519.PublicKey // what must sign images
	Tries          int               // starts an unconfirmed update gets
	ConfirmSeconds int               // how long each start has to confirm
}

// Updater installs images into the slot the phone does not run from.
// Its methods are for one goroutine.
type Updater struct {
	Dev     *Device
	Running Slot   // what this process runs from
	Version string // what this process is ("dev" or unparsable: any image is newer)
	Arch    string // runtime.GOARCH: an image for another is refused
	// Fetch gets a URL into w (at most limit bytes); nil: Fetch.
	Fetch func(ctx context.Context, url string, w io.Writer, limit int64) error
	Logf  func(format string, args ...any)
}

func (u *Updater) logf(format string, args ...any) {
	if u.Logf != nil {
		u.Logf(format, args...)
	}
}

// Note is the last rollback's note, "" when there is none.
func (u *Updater) Note() string {
	r, err := u.Dev.Record()
	if err != nil {
		return ""
	}
	return r.Note
}

// Confirm marks the running slot good: it has registered (or reached the
// panel without a line). The boot loader then stops counting its tries
// and watching its deadline. Confirming a confirmed slot, or the factory
// image, does nothing.
func (u *Updater) Confirm() (bool, error) {
	r, err := u.Dev.Record()
	if err != nil {
		return false, err
	}
	if r.Active != u.Running || r.Confirmed || u.Running == Factory {
		return false, nil
	}
	r.Confirmed, r.Tries, r.Note = true, 0, ""
	return true, u.Dev.WriteRecord(r)
}

// Install fetches the image at rawURL and, when it is signed by c.Key,
// whole, for this architecture and wanted (ErrNotWanted otherwise), writes
// it to the slot this process does not run from, reads it back, and only
// then makes the boot record name it, unconfirmed with c.Tries starts.
// Any failure leaves the record as it was: the phone boots what it runs.
func (u *Updater) Install(ctx context.Context, c Config, rawURL string) (Header, error) {
	if len(c.Key) == 0 {
		return Header{}, fmt.Errorf("%w: no key to check images with (firmware.public_key or provision.public_key)", ErrSignature)
	}
	rec, err := u.Dev.Record()
	if err != nil {
		return Header{}, err
	}
	if rec.Active != u.Running || !rec.Confirmed {
		return Header{}, fmt.Errorf("update: the boot record names %s (confirmed %t), this is %s: no update until it is confirmed", rec.Active, rec.Confirmed, u.Running)
	}
	target := u.Running.other()
	iw := &imageWriter{u: u, c: c, rec: rec, target: target}
	fetch := u.Fetch
	if fetch == nil {
		fetch = Fetch
	}
	err = fetch(ctx, rawURL, iw, HeaderSize+MaxPayload)
	if iw.refused != nil {
		return iw.h, iw.refused // the writer's own verdict, not the transfer's wrapping
	}
	if err != nil {
		return Header{}, fmt.Errorf("update: %s: %w", rawURL, err)
	}
	if err := iw.done(); err != nil {
		return iw.h, err
	}
	r := rec
	r.Active, r.Confirmed, r.Tries, r.Previous = target, false, max(c.Tries, 1), u.Running
	r.ConfirmSeconds = max(c.ConfirmSeconds, 1)
	r.setVersion(target, iw.h.Version)
	r.Note = ""
	if err := u.Dev.WriteRecord(r); err != nil {
		return iw.h, fmt.Errorf("update: boot record: %w (the phone keeps booting %s)", err, u.Running)
	}
	u.logf("firmware: %s written to slot %s and read back; the boot record names it (%d tries, %d s each to register)",
		iw.h.Version, target, r.Tries, r.ConfirmSeconds)
	return iw.h, nil
}

// imageWriter takes the download: it checks the header as soon as it
// has it (so an unsigned or unwanted image costs one block), then
// streams the payload into the slot, hashing it.
type imageWriter struct {
	u      *Updater
	c      Config
	rec    Record
	target Slot

	head    []byte
	h       Header
	slot    *SlotWriter
	sum     hash.Hash
	n       int64 // payload bytes seen
	refused error
	logged  int64
}

func (w *imageWriter) Write(p []byte) (int, error) {
	if w.refused != nil {
		return 0, w.refused
	}
	n := len(p)
	if w.slot == nil {
		take := min(len(p), HeaderSize-len(w.head))
		w.head = append(w.head, p[:take]...)
		p = p[take:]
		if len(w.head) < HeaderSize {
			return n, nil
		}
		if err := w.start(); err != nil {
			w.refused = err
			return 0, err
		}
	}
	if w.n+int64(len(p)) > w.h.Length {
		w.refused = fmt.Errorf("%w: more than the %d bytes its header names", ErrFormat, w.h.Length)
		return 0, w.refused
	}
	w.sum.Write(p)
	if _, err := w.slot.Write(p); err != nil {
		w.refused = err
		return 0, err
	}
	w.n += int64(len(p))
	if w.n-w.logged >= w.h.Length/4 && w.n < w.h.Length {
		w.logged = w.n
		w.u.logf("firmware: writing %s to slot %s: %d of %d bytes", w.h.Version, w.target, w.n, w.h.Length)
	}
	return n, nil
}

// start checks the header and opens the slot.
func (w *imageWriter) start() error {
	h, err := Verify(w.c.Key, w.head)
	if err != nil {
		return err
	}
	w.h = h
	if err := w.wanted(); err != nil {
		return err
	}
	if HeaderSize+h.Length > w.u.Dev.SlotSize {
		return fmt.Errorf("update: image %s of %d bytes does not fit a slot of %d", h.Version, h.Length, w.u.Dev.SlotSize)
	}
	w.u.logf("firmware: image %s (%s, %d bytes) is signed by the trusted key; writing it to slot %s", h.Version, h.Arch, h.Length, w.target)
	sw, err := w.u.Dev.WriteSlot(w.target)
	if err != nil {
		return err
	}
	if _, err := sw.Write(w.head); err != nil {
		return err
	}
	w.slot, w.sum = sw, sha256.New()
	return nil
}

// wanted says whether the phone takes the image: the architecture it
// runs, and a newer version, or exactly the pinned one; never one that
// failed before.
func (w *imageWriter) wanted() error {
	h := w.h
	if w.u.Arch != "" && h.Arch != w.u.Arch {
		return fmt.Errorf("update: image %s is for %s, this phone runs %s", h.Version, h.Arch, w.u.Arch)
	}
	if h.Version == w.u.Version {
		return fmt.Errorf("%w: %s is running", ErrNotWanted, h.Version)
	}
	if h.Version == w.rec.Failed {
		return fmt.Errorf("%w: %s failed on this phone before (%s); publish another version", ErrNotWanted, h.Version, w.rec.Note)
	}
	if w.c.Version != "" {
		if h.Version != w.c.Version {
			return fmt.Errorf("%w: the configuration names %s (firmware.version), the image is %s", ErrNotWanted, w.c.Version, h.Version)
		}
		return nil // pinned: a downgrade too
	}
	run, err := version.Parse(w.u.Version)
	if err != nil {
		return nil // a development build takes any release
	}
	v, _ := version.Parse(h.Version) // ParseHeader checked it
	if v.Compare(run) <= 0 {
		return fmt.Errorf("%w: %s is not newer than %s (name it in firmware.version to go back)", ErrNotWanted, h.Version, w.u.Version)
	}
	return nil
}

// done checks the whole payload came, and syncs and reads the slot back.
func (w *imageWriter) done() error {
	if w.slot == nil {
		return fmt.Errorf("%w: %d bytes, shorter than a header", ErrFormat, len(w.head))
	}
	if w.n != w.h.Length {
		return fmt.Errorf("update: image %s truncated: %d of %d bytes", w.h.Version, w.n, w.h.Length)
	}
	if [32]byte(w.sum.Sum(nil)) != w.h.SHA256 {
		return fmt.Errorf("%w: image %s: the payload does not match the signed SHA-256", ErrSignature, w.h.Version)
	}
	return w.slot.Finish(w.h)
}

// ResolveURL makes firmware.url absolute: a URL with a scheme stays as it
// is; a name or path is taken relative to base, the folder the
// configuration came from (e.g. tftp://10.0.2.2).
func ResolveURL(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("update: firmware.url %q: %w", ref, err)
	}
	if r.Scheme != "" {
		return ref, nil
	}
	b, err := url.Parse(strings.TrimSuffix(base, "/") + "/")
	if err != nil || b.Scheme == "" {
		return "", fmt.Errorf("update: firmware.url %q is relative, and the configuration came from %q, no URL", ref, base)
	}
	return b.ResolveReference(r).String(), nil
}

// Fetch gets rawURL into w, at most limit bytes: firmware comes through
// provision.Download, the one getter of configuration files and images
// (tftp://, http://, https:// with the system roots; the phone passes its
// provisioning trust, provision.ca, through Updater.Fetch).
func Fetch(ctx context.Context, rawURL string, w io.Writer, limit int64) error {
	_, err := provision.Download(ctx, rawURL, w, limit, nil)
	return err
}
