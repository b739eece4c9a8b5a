package update

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Loader is the boot loader: the factory phoned, PID 1, reads the boot
// record at each start and runs the slot it names as a child process,
// watching an unconfirmed one. Fill in the fields and call Run.
type Loader struct {
	Dev            *Device
	FactoryVersion string
	// RunDir is where a slot's binary is copied to run (a tmpfs: /run).
	RunDir string
	// Args are the child's arguments after its program name (the board,
	// and -slot is added).
	Args []string
	// Start runs path with args and returns a wait for its end (its exit
	// status as text) and a kill. firmware/boot.StartChild on a phone.
	Start func(path string, args []string) (wait func() string, kill func(), err error)
	Logf  func(format string, args ...any)
	// Pause is the wait before a confirmed slot that ended is started
	// again; default 2 s.
	Pause time.Duration
	// Poll is how often an unconfirmed slot's record is looked at; default
	// 1 s.
	Poll time.Duration
}

func (l *Loader) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
	}
}

// Run boots what the record names until that is the factory image:
// then it returns, with the rollback note to show, and the caller runs
// the factory phone in its own process. A slot is run as a child; when
// it ends (a restart for a new configuration or firmware, or a crash)
// the record is read again. A record that cannot be read or written
// boots the factory image: a phone that cannot count its tries must not
// run an unproven slot.
func (l *Loader) Run() (note string) {
	for {
		rec, err := l.Dev.Record()
		if err != nil {
			l.logf("firmware: boot record: %v; starting the factory image %s", err, l.FactoryVersion)
			return ""
		}
		choice, next, changed := Next(rec, l.FactoryVersion)
		if changed {
			if err := l.Dev.WriteRecord(next); err != nil {
				l.logf("firmware: writing the boot record: %v; starting the factory image %s", err, l.FactoryVersion)
				return ""
			}
		}
		// A rollback's note is logged and shown by the phone it falls back
		// to (Updater.Note), factory or slot.
		if choice.Boot == Factory {
			return next.Note
		}
		path, err := l.copyOut(choice.Boot)
		if err != nil {
			failed := next.Failed
			_, next, _ = Abandon(next, l.FactoryVersion)
			if rec.Confirmed {
				next.Failed = failed // the card failed, not the version
			}
			next.Note = fmt.Sprintf("%s (%v)", next.Note, err)
			l.logf("firmware: %s", next.Note)
			if err := l.Dev.WriteRecord(next); err != nil {
				l.logf("firmware: writing the boot record: %v; starting the factory image %s", err, l.FactoryVersion)
				return ""
			}
			continue
		}
		l.runSlot(path, choice, next)
	}
}

// copyOut copies a slot's binary to RunDir, checked against its hash.
func (l *Loader) copyOut(s Slot) (string, error) {
	if err := os.MkdirAll(l.RunDir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(l.RunDir, "phoned-"+s.String())
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return "", err
	}
	_, err = l.Dev.ReadSlot(s, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}

// runSlot runs one start of a slot; for an unconfirmed one it kills it
// when the deadline passes without a confirmation.
func (l *Loader) runSlot(path string, c Choice, rec Record) {
	v := rec.VersionOf(c.Boot)
	args := append([]string{path, "-slot", c.Boot.String()}, l.Args...)
	if c.Deadline > 0 {
		l.logf("firmware: starting %s from slot %s, unconfirmed: %d s to register, %d more tries after this", v, c.Boot, c.Deadline, rec.Tries)
	} else {
		l.logf("firmware: starting %s from slot %s", v, c.Boot)
	}
	wait, kill, err := l.Start(path, args)
	if err != nil {
		l.logf("firmware: starting slot %s: %v", c.Boot, err)
		l.pause(rec)
		return
	}
	stop := make(chan struct{})
	if c.Deadline > 0 {
		go l.watch(c, v, stop, kill)
	}
	status := wait()
	close(stop)
	l.logf("firmware: %s in slot %s ended: %s", v, c.Boot, status)
	l.pause(rec)
}

// watch kills an unconfirmed slot that has not confirmed by its
// deadline. It looks at the record once a second and stops watching as
// soon as the slot has confirmed: a confirmed phone that then installs
// another update and waits for a call to end is not killed.
func (l *Loader) watch(c Choice, v string, stop <-chan struct{}, kill func()) {
	deadline := time.After(time.Duration(c.Deadline) * time.Second)
	tick := time.NewTicker(l.poll())
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if r, err := l.Dev.Record(); err == nil && r.Active == c.Boot && r.Confirmed {
				return
			}
			continue
		case <-deadline:
		}
		if r, err := l.Dev.Record(); err == nil && r.Active == c.Boot && r.Confirmed {
			return
		}
		l.logf("firmware: %s in slot %s did not register within %d s; stopping it", v, c.Boot, c.Deadline)
		kill()
		return
	}
}

func (l *Loader) poll() time.Duration {
	if l.Poll > 0 {
		return l.Poll
	}
	return time.Second
}

// pause waits before a confirmed slot is started again, so one that
// crashes at once does not spin.
func (l *Loader) pause(rec Record) {
	if !rec.Confirmed {
		return
	}
	d := l.Pause
	if d <= 0 {
		d = 2 * time.Second
	}
	time.Sleep(d)
}
