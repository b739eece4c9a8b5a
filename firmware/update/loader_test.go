package update

import (
	"context"
	"crypto/ed25519"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// The loader tests run in a synctest bubble: its deadlines, polls and
// pauses take no real time.

// installed is a device with 1.1.0 installed into slot A from the
// factory image 1.0.0, unconfirmed, with tries starts.
func installed(t *testing.T, tries int) (*mem, []byte) {
	t.Helper()
	priv := key(t, 1)
	img := image(t, priv, "1.1.0", 5000)
	m := newMem(devSize)
	u := newUpdater(t, m, Factory, "1.0.0", map[string][]byte{"tftp://s/i": img})
	if _, err := u.Install(context.Background(), Config{Key: priv.Public().(ed25519.PublicKey), Tries: tries, ConfirmSeconds: 1}, "tftp://s/i"); err != nil {
		t.Fatal(err)
	}
	return m, img
}

func loader(t *testing.T, m *mem, start func(path string, args []string) (func() string, func(), error)) *Loader {
	d, err := NewDevice(m, devSize)
	if err != nil {
		t.Fatal(err)
	}
	return &Loader{Dev: d, FactoryVersion: "1.0.0", RunDir: t.TempDir(), Args: []string{"-board", "qemu"},
		Start: start, Logf: t.Logf, Pause: time.Millisecond}
}

func TestLoaderRollsBackACrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, img := installed(t, 2)
		starts := 0
		l := loader(t, m, func(path string, args []string) (func() string, func(), error) {
			starts++
			b, err := os.ReadFile(path)
			if err != nil || string(b) != string(img[HeaderSize:]) {
				t.Errorf("the slot's binary at %s: %d bytes, %v", path, len(b), err)
			}
			if strings.Join(args[1:], " ") != "-slot A -board qemu" {
				t.Errorf("args %q", args)
			}
			return func() string { return "exit status 2" }, func() {}, nil
		})
		note := l.Run()
		if starts != 2 || note != "update to 1.1.0 failed, rolled back to 1.0.0 (factory)" {
			t.Errorf("%d starts, note %q", starts, note)
		}
		r, _ := l.Dev.Record()
		if r.Active != Factory || !r.Confirmed || r.Failed != "1.1.0" {
			t.Errorf("record %+v", r)
		}
	})
}

func TestLoaderStopsOneThatNeverRegisters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := installed(t, 1)
		killed := 0
		l := loader(t, m, func(path string, args []string) (func() string, func(), error) {
			done := make(chan struct{})
			return func() string { <-done; return "killed by killed" },
				func() { killed++; close(done) }, nil
		})
		if note := l.Run(); killed != 1 || !strings.Contains(note, "rolled back to 1.0.0") {
			t.Errorf("killed %d times, note %q", killed, note)
		}
	})
}

func TestLoaderKeepsAConfirmedSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := installed(t, 1)
		starts := 0
		var l *Loader
		l = loader(t, m, func(path string, args []string) (func() string, func(), error) {
			starts++
			u := &Updater{Dev: l.Dev, Running: A, Version: "1.1.0"}
			switch starts {
			case 1: // registers, then restarts (a new configuration)
				if ok, err := u.Confirm(); !ok || err != nil {
					t.Errorf("Confirm = %t %v", ok, err)
				}
			case 2: // started again, unwatched; the test ends the loop
				r, _ := l.Dev.Record()
				if r.Active != A || !r.Confirmed {
					t.Errorf("second start with record %+v", r)
				}
				l.Dev.WriteRecord(Record{Active: Factory, Confirmed: true})
			}
			return func() string { return "exit status 0" }, func() { t.Error("killed") }, nil
		})
		if note := l.Run(); starts != 2 || note != "" {
			t.Errorf("%d starts, note %q", starts, note)
		}
	})
}

func TestLoaderLeavesADamagedSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := installed(t, 3)
		m.b[slotsOffset+HeaderSize+100] ^= 1 // a bit rots in slot A
		l := loader(t, m, func(string, []string) (func() string, func(), error) {
			t.Error("a damaged slot was started")
			return func() string { return "" }, func() {}, nil
		})
		if note := l.Run(); !strings.Contains(note, "update to 1.1.0 failed, rolled back to 1.0.0 (factory)") || !strings.Contains(note, "SHA-256") {
			t.Errorf("note %q", note)
		}
	})
}

// TestLoaderStopsWatchingOnceConfirmed: a slot that confirms and then
// keeps running past its deadline (it waits for a call to end before
// restarting into another update) is not killed.
func TestLoaderStopsWatchingOnceConfirmed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := installed(t, 1)
		var l *Loader
		starts := 0
		l = loader(t, m, func(string, []string) (func() string, func(), error) {
			starts++
			if starts > 1 {
				l.Dev.WriteRecord(Record{Active: Factory, Confirmed: true})
				return func() string { return "exit status 0" }, func() {}, nil
			}
			(&Updater{Dev: l.Dev, Running: A}).Confirm()
			done := make(chan struct{})
			go func() { time.Sleep(1500 * time.Millisecond); close(done) }() // past the 1 s deadline
			return func() string { <-done; return "exit status 0" }, func() { t.Error("a confirmed slot was killed") }, nil
		})
		l.Poll = 10 * time.Millisecond
		l.Run()
	})
}
