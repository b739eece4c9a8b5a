package provision

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/storage"
)

// memSource is a server in memory; down makes every Get fail.
type memSource struct {
	mu    sync.Mutex
	files map[string][]byte
	down  bool
	gets  int
}

func (m *memSource) Get(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	if m.down {
		return nil, errors.New("provision: timeout")
	}
	b, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("provision: %s: %w", name, ErrNotFound)
	}
	return append([]byte(nil), b...), nil
}

func (m *memSource) String() string { return "mem" }

func (m *memSource) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gets
}

func (m *memSource) set(name, data string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	m.files[name] = []byte(data)
}

func (m *memSource) setDown(d bool) {
	m.mu.Lock()
	m.down = d
	m.mu.Unlock()
}

// memDev is a storage device in memory.
type memDev struct{ b []byte }

func (d *memDev) ReadAt(p []byte, off int64) (int, error)  { return copy(p, d.b[off:]), nil }
func (d *memDev) WriteAt(p []byte, off int64) (int, error) { return copy(d.b[off:], p), nil }

func newStore(t testing.TB) *storage.Store {
	s, err := storage.New(&memDev{b: make([]byte, 64<<10)}, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const own = "525400123456.cfg"

var (
	seed1 = []byte("0123456789abcdef0123456789abcdef")
	seed2 = []byte("fedcba9876543210fedcba9876543210")
	key1  = ed25519.NewKeyFromSeed(seed1)
	key2  = ed25519.NewKeyFromSeed(seed2)
)

func pub(k ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

// signAll writes name.sig for each file, signed with k.
func (m *memSource) signAll(k ed25519.PrivateKey, names ...string) {
	for _, n := range names {
		m.set(n+SigSuffix, string(Sign(k, n, m.files[n])))
	}
}

func newProv(src Source, st *storage.Store, logs *[]string) *Provisioner {
	var mu sync.Mutex
	return &Provisioner{Source: src, OwnFile: own, Store: st, Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		*logs = append(*logs, fmt.Sprintf(f, a...))
	}}
}

func joined(logs []string) string { return strings.Join(logs, "\n") }

func TestBootFallsBackToStorage(t *testing.T) {
	src := &memSource{}
	src.set("phone.cfg", "line.1.registrar = 10.0.2.2\nsip.port = 5070\n")
	src.set(own, "line.1.user = 1001\n")
	st := newStore(t)
	var logs []string
	cfg, err := newProv(src, st, &logs).Boot(context.Background())
	if err != nil || cfg.Lines[0].User != "1001" || cfg.SIPPort != 5070 {
		t.Fatalf("first boot: %v %s", err, cfg)
	}
	if !strings.Contains(joined(logs), "stored (generation 1)") {
		t.Errorf("not stored: %s", joined(logs))
	}
	// Unchanged files are not stored again.
	logs = nil
	newProv(src, st, &logs).Boot(context.Background())
	if strings.Contains(joined(logs), "stored (generation") {
		t.Errorf("stored again: %s", joined(logs))
	}

	for _, tc := range []struct {
		name   string
		break_ func()
		why    string
	}{
		{"server down", func() { src.setDown(true) }, "timeout"},
		{"bad value", func() { src.setDown(false); src.set(own, "line.1.user = 1001\nsip.port = 0\n") }, "525400123456.cfg:2: sip.port"},
		{"validation", func() { src.set(own, "rtp.port_min = 20000\nrtp.port_max = 10000\n") }, "rtp.port_min"},
		{"both files gone", func() { delete(src.files, own); delete(src.files, "phone.cfg") }, "neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.break_()
			var logs []string
			cfg, err := newProv(src, st, &logs).Boot(context.Background())
			if err != nil || cfg.Lines[0].User != "1001" || cfg.SIPPort != 5070 {
				t.Fatalf("boot: %v %s", err, cfg)
			}
			l := joined(logs)
			if !strings.Contains(l, "using the last good configuration from storage (generation 1, from mem") || !strings.Contains(l, tc.why) {
				t.Errorf("log lacks fallback or %q:\n%s", tc.why, l)
			}
		})
	}
	// Nothing stored and the server down: an error.
	src.setDown(true)
	if _, err := newProv(src, newStore(t), &logs).Boot(context.Background()); err == nil {
		t.Error("boot with nothing succeeded")
	}
	if _, err := newProv(src, nil, &logs).Boot(context.Background()); err == nil {
		t.Error("boot without storage succeeded")
	}
}

func TestOwnOrCommonMissing(t *testing.T) {
	for _, tc := range []struct {
		files map[string]string
		user  string
		err   string
	}{
		{map[string]string{"phone.cfg": "line.1.user = 1"}, "1", ""},
		{map[string]string{own: "line.1.user = 2"}, "2", ""},
		{map[string]string{}, "", "neither"},
	} {
		src := &memSource{}
		for k, v := range tc.files {
			src.set(k, v)
		}
		var logs []string
		cfg, err := newProv(src, nil, &logs).Boot(context.Background())
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrNotFound) {
				t.Errorf("%v: err %v", tc.files, err)
			}
			continue
		}
		if err != nil || cfg.Lines[0].User != tc.user {
			t.Errorf("%v: %v %s", tc.files, err, cfg)
		}
	}
}

func TestSignatures(t *testing.T) {
	base := func() *memSource {
		src := &memSource{}
		src.set("phone.cfg", "line.1.registrar = 10.0.2.2\n")
		src.set(own, "line.1.user = 1001\n")
		return src
	}
	tests := []struct {
		name    string
		build   ed25519.PrivateKey // the build's key
		stored  string             // provision.public_key of the stored configuration
		prepare func(s *memSource)
		err     string // "" = accepted
	}{
		{"no key anywhere, unsigned", nil, "", func(*memSource) {}, ""},
		{"build key, signed", key1, "", func(s *memSource) { s.signAll(key1, "phone.cfg", own) }, ""},
		{"build key, unsigned", key1, "", func(*memSource) {}, "phone.cfg is not signed"},
		{"build key, own unsigned", key1, "", func(s *memSource) { s.signAll(key1, "phone.cfg") }, own + " is not signed"},
		{"build key, other key", key1, "", func(s *memSource) { s.signAll(key2, "phone.cfg", own) }, "does not match"},
		{"build key, altered", key1, "", func(s *memSource) {
			s.signAll(key1, "phone.cfg", own)
			s.set(own, "line.1.user = 1002\n")
		}, "does not match"},
		{"build key, file swapped for another phone's", key1, "", func(s *memSource) {
			s.set("525400999999.cfg", "line.1.user = 1002\n")
			s.signAll(key1, "phone.cfg", "525400999999.cfg")
			s.set(own, "line.1.user = 1002\n")
			s.set(own+SigSuffix, string(s.files["525400999999.cfg"+SigSuffix]))
		}, "does not match"},
		{"build key, garbage signature", key1, "", func(s *memSource) {
			s.signAll(key1, "phone.cfg", own)
			s.set(own+SigSuffix, "not base64!")
		}, "not a base64 Ed25519 signature"},
		{"build key wins over file's key", key1, "", func(s *memSource) {
			s.set("phone.cfg", "provision.public_key = "+pub(key2)+"\n")
			s.signAll(key2, "phone.cfg", own)
		}, "does not match"},
		{"stored key, unsigned", nil, pub(key1), func(*memSource) {}, "not signed"},
		{"stored key, file removes the key but unsigned", nil, pub(key1), func(s *memSource) {
			s.set("phone.cfg", "provision.public_key =\n")
		}, "not signed"},
		{"stored key, file names its own key", nil, pub(key1), func(s *memSource) {
			s.set("phone.cfg", "provision.public_key = "+pub(key2)+"\n")
			s.signAll(key2, "phone.cfg", own)
		}, "does not match"},
		{"stored key, rotation signed by the old key", nil, pub(key1), func(s *memSource) {
			s.set("phone.cfg", "provision.public_key = "+pub(key2)+"\n")
			s.signAll(key1, "phone.cfg", own)
		}, ""},
		{"first use, names a key, signed by it", nil, "", func(s *memSource) {
			s.set("phone.cfg", "provision.public_key = "+pub(key1)+"\n")
			s.signAll(key1, "phone.cfg", own)
		}, ""},
		{"first use, names a key, unsigned", nil, "", func(s *memSource) {
			s.set("phone.cfg", "provision.public_key = "+pub(key1)+"\n")
		}, "not signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t)
			if tt.stored != "" {
				f := Files{CommonName: "phone.cfg", Common: []byte("provision.public_key = " + tt.stored + "\nline.1.user = old\n"), OwnName: own, From: "earlier"}
				if _, err := st.Save(f.marshal()); err != nil {
					t.Fatal(err)
				}
			}
			src := base()
			tt.prepare(src)
			var logs []string
			p := newProv(src, st, &logs)
			if tt.build != nil {
				p.TrustedKey = tt.build.Public().(ed25519.PublicKey)
			}
			_, _, err := p.fetchAndCheck(context.Background())
			if tt.stored != "" || tt.build != nil {
				// Boot sets up trust first; go through it.
				var cfg config.Config
				cfg, err = p.Boot(context.Background())
				if err == nil && strings.Contains(joined(logs), "using the last good") {
					err = errors.New(joined(logs))
				}
				_ = cfg
			}
			if tt.err == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if strings.Contains(err.Error(), "sign") && !errors.Is(err, ErrSignature) && !strings.Contains(err.Error(), "using the last good") {
				t.Errorf("%v does not wrap ErrSignature", err)
			}
		})
	}
}

func TestRunResyncAndDefer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &memSource{}
		src.set("phone.cfg", "provision.resync_minutes = 10\n")
		src.set(own, "line.1.user = 1001\n")
		var logs []string
		p := newProv(src, newStore(t), &logs)
		var mu sync.Mutex
		busy := false
		var applied []string
		p.Idle = func() bool { mu.Lock(); defer mu.Unlock(); return !busy }
		p.Apply = func(c config.Config) { mu.Lock(); applied = append(applied, c.Lines[0].User); mu.Unlock() }
		if _, err := p.Boot(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		got := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), applied...) }

		// Nothing changes: periodic fetches, nothing applied.
		gets := src.count()
		time.Sleep(25 * time.Minute)
		synctest.Wait()
		if src.count()-gets != 4 || len(got()) != 0 {
			t.Fatalf("after 25 min: %d gets, applied %v", src.count()-gets, got())
		}
		// A change is picked up at the next period.
		src.set(own, "line.1.user = 1002\n")
		time.Sleep(5*time.Minute + time.Second)
		synctest.Wait()
		if a := got(); len(a) != 1 || a[0] != "1002" {
			t.Fatalf("applied %v", a)
		}
		// Resync (check-sync) while a call is up: fetched now, applied when idle.
		mu.Lock()
		busy = true
		mu.Unlock()
		src.set(own, "line.1.user = 1003\n")
		p.Resync()
		p.Resync() // merged
		time.Sleep(time.Second)
		synctest.Wait()
		if !p.Pending() || len(got()) != 1 || p.Current().Lines[0].User != "1003" {
			t.Fatalf("pending %v applied %v current %s", p.Pending(), got(), p.Current().Lines[0].User)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if len(got()) != 1 {
			t.Fatalf("applied during the call: %v", got())
		}
		mu.Lock()
		busy = false
		mu.Unlock()
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if a := got(); len(a) != 2 || a[1] != "1003" || p.Pending() {
			t.Fatalf("after the call: applied %v", a)
		}
		// A broken file on resync: kept, retried after a minute, then two.
		src.set(own, "line.1.user = 1004\nsip.port = x\n")
		p.Resync()
		time.Sleep(time.Second)
		synctest.Wait()
		gets = src.count()
		time.Sleep(time.Minute)
		synctest.Wait()
		if src.count() == gets || len(got()) != 2 || p.Current().Lines[0].User != "1003" {
			t.Fatalf("no retry or broken file taken: gets %d->%d, applied %v", gets, src.count(), got())
		}
		src.set(own, "line.1.user = 1004\n")
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if a := got(); len(a) != 3 || a[2] != "1004" {
			t.Fatalf("after repair: %v", a)
		}
		l := joined(logs)
		for _, want := range []string{"resync requested", "waits until it is idle", "keeping the current configuration, next try in 1m0s", "next try in 2m0s", "sip.port"} {
			if !strings.Contains(l, want) {
				t.Errorf("log lacks %q:\n%s", want, l)
			}
		}
		cancel()
		<-done
	})
}

func TestRunRetriesSoonAfterFallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &memSource{}
		src.set("phone.cfg", "line.1.user = 1\n")
		st := newStore(t)
		var logs []string
		if _, err := newProv(src, st, &logs).Boot(t.Context()); err != nil {
			t.Fatal(err)
		}
		src.setDown(true)
		p := newProv(src, st, &logs)
		applied := make(chan string, 1)
		p.Apply = func(c config.Config) { applied <- c.Lines[0].User }
		if _, err := p.Boot(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go p.Run(ctx)
		src.setDown(false)
		src.set("phone.cfg", "line.1.user = 2\n")
		time.Sleep(61 * time.Second)
		synctest.Wait()
		select {
		case u := <-applied:
			if u != "2" {
				t.Fatal(u)
			}
		default:
			t.Fatalf("not retried within a minute of a fallback boot:\n%s", joined(logs))
		}
	})
}

func TestStoredRoundTrip(t *testing.T) {
	for _, f := range []Files{
		{CommonName: "phone.cfg", Common: []byte("a"), OwnName: own, Own: nil, From: "tftp://x", Fetched: time.Unix(0, 12345)},
		{CommonName: "phone.cfg", Common: nil, OwnName: own, Own: []byte{}, From: "", Fetched: time.Unix(1e9, 0)},
		{CommonName: "site.cfg", Common: []byte("x\ny"), OwnName: "", Own: nil, Fetched: time.Unix(5, 0)},
		{CommonName: "phone.cfg", Common: []byte("a"), OwnName: own, Own: []byte("b"), From: "https://p", Fetched: time.Unix(7, 0),
			CommonVal: Validators{ETag: `"5f-1"`, LastModified: "Wed, 02 Dec 2026 07:00:00 GMT"}, OwnVal: Validators{ETag: `"6"`}},
	} {
		b := f.marshal()
		g, err := unmarshalFiles(b)
		if err != nil || !sameStored(f, g) || !g.Fetched.Equal(f.Fetched) {
			t.Errorf("round trip %+v -> %+v, %v", f, g, err)
		}
		for i := range b {
			if _, err := unmarshalFiles(b[:i]); err == nil {
				t.Errorf("truncated at %d accepted", i)
			}
		}
	}
}

// TestStoredV1: a configuration stored before the validators were kept
// (DPCF1) is still read, with none.
func TestStoredV1(t *testing.T) {
	b := []byte("DPCF1")
	for _, s := range []string{"phone.cfg", "a = b\n", own, "", "tftp://10.0.2.2"} {
		b = append(b, byte(len(s)+1))
		b = append(b, s...)
	}
	b = append(b, 2) // varint 1
	f, err := unmarshalFiles(b)
	if err != nil || f.CommonName != "phone.cfg" || string(f.Common) != "a = b\n" || f.Own == nil || len(f.Own) != 0 ||
		f.From != "tftp://10.0.2.2" || f.CommonVal != (Validators{}) || f.Fetched.UnixNano() != 1 {
		t.Fatalf("unmarshalFiles(v1) = %+v, %v", f, err)
	}
}

func TestDirSource(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "phone.cfg"), []byte("line.1.user = 7\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "big"), make([]byte, MaxConfigSize+1), 0o644)
	s := DirSource{Dir: dir}
	if b, err := s.Get(context.Background(), "phone.cfg"); err != nil || string(b) != "line.1.user = 7\n" {
		t.Errorf("Get = %q, %v", b, err)
	}
	if _, err := s.Get(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := s.Get(context.Background(), "big"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v", err)
	}
}

func TestKeys(t *testing.T) {
	k, err := ParsePrivateKey([]byte(base64.StdEncoding.EncodeToString(seed1) + "\n"))
	if err != nil || !k.Equal(key1) {
		t.Fatalf("seed: %v", err)
	}
	if k, err := ParsePrivateKey([]byte(base64.StdEncoding.EncodeToString(key1))); err != nil || !k.Equal(key1) {
		t.Fatalf("full: %v", err)
	}
	bad := append([]byte(nil), key1...)
	bad[40] ^= 1
	for _, in := range []string{"!!", base64.StdEncoding.EncodeToString([]byte("short")), base64.StdEncoding.EncodeToString(bad)} {
		if _, err := ParsePrivateKey([]byte(in)); err == nil {
			t.Errorf("ParsePrivateKey(%q) accepted", in)
		}
	}
	if p, err := ParsePublicKey(pub(key1)); err != nil || !p.Equal(key1.Public()) {
		t.Errorf("ParsePublicKey: %v", err)
	}
	if _, err := ParsePublicKey("AAAA"); err == nil {
		t.Error("short public key accepted")
	}
	sig := Sign(key1, "phone.cfg", []byte("x"))
	if err := Verify(key1.Public().(ed25519.PublicKey), "phone.cfg", []byte("x"), sig); err != nil {
		t.Error(err)
	}
	if err := Verify(key1.Public().(ed25519.PublicKey), "other.cfg", []byte("x"), sig); !errors.Is(err, ErrSignature) {
		t.Errorf("renamed file: %v", err)
	}
}

func FuzzUnmarshalFiles(f *testing.F) {
	f.Add(Files{CommonName: "phone.cfg", Common: []byte("a = b\n"), OwnName: own, Own: []byte("c = d\n"), From: "tftp://10.0.2.2"}.marshal())
	f.Add([]byte(storedMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := unmarshalFiles(b)
		if err != nil {
			return
		}
		g, err := unmarshalFiles(fs.marshal())
		if err != nil || !sameStored(fs, g) {
			t.Fatalf("re-marshal: %+v -> %+v, %v", fs, g, err)
		}
	})
}

// TestStatus: the origin an administrator's page shows follows boots,
// fallbacks and resyncs, and the generation counts what was stored.
func TestStatus(t *testing.T) {
	src := &memSource{}
	src.set("phone.cfg", "line.1.registrar = 10.0.2.2\n")
	src.set(own, "line.1.user = 1001\n")
	st := newStore(t)
	var logs []string
	p := newProv(src, st, &logs)
	if _, err := p.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := p.Status()
	if o := s.Running; o.From != "mem" || o.CommonName != "phone.cfg" || o.OwnName != own || o.Generation != 1 || o.Stored || o.Fetched.IsZero() {
		t.Fatalf("after boot: %+v", s)
	}
	if !s.Checked.IsZero() || s.Pending {
		t.Fatalf("after boot: %+v", s)
	}
	// A resync that finds the same files: checked, nothing pending.
	if changed, err := p.Check(context.Background()); changed || err != nil {
		t.Fatal(changed, err)
	}
	if s = p.Status(); s.Checked.IsZero() || s.CheckErr != nil || s.Pending {
		t.Fatalf("after an unchanged resync: %+v", s)
	}
	// A new file: stored as generation 2 and pending; the running one is
	// still the first.
	src.set(own, "line.1.user = 1001\nline.1.display_name = Desk\n")
	if changed, err := p.Check(context.Background()); !changed || err != nil {
		t.Fatal(changed, err)
	}
	if s = p.Status(); !s.Pending || s.PendingAt.Generation != 2 || s.Running.Generation != 1 {
		t.Fatalf("after a changed resync: %+v", s)
	}
	src.setDown(true)
	if _, err := p.Check(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if s = p.Status(); s.CheckErr == nil {
		t.Fatalf("after a failed resync: %+v", s)
	}
	// Boot with the server down: the stored generation 2.
	p = newProv(src, st, &logs)
	if _, err := p.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o := p.Status().Running; !o.Stored || o.Generation != 2 {
		t.Fatalf("fallen back: %+v", o)
	}
}
