package update

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/provision"
	"github.com/deskphone/deskphone/firmware/provision/tftpdtest"
	"github.com/deskphone/deskphone/internal/testtool"
)

// mem is a device in memory. After cutAfter bytes have been written
// (when cutAfter >= 0) every write stops there: the power went.
type mem struct {
	mu       sync.Mutex
	b        []byte
	written  int64
	cutAfter int64
	syncs    int
}

func newMem(size int) *mem { return &mem{b: make([]byte, size), cutAfter: -1} }

var errPower = errors.New("power cut")

func (m *mem) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *mem) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off+int64(len(p)) > int64(len(m.b)) {
		return 0, errors.New("beyond the device")
	}
	if m.cutAfter >= 0 && m.written+int64(len(p)) > m.cutAfter {
		n := max(m.cutAfter-m.written, 0)
		copy(m.b[off:], p[:n])
		m.written += n
		return int(n), errPower
	}
	copy(m.b[off:], p)
	m.written += int64(len(p))
	return len(p), nil
}

func (m *mem) Sync() error { m.mu.Lock(); m.syncs++; m.mu.Unlock(); return nil }

const devSize = slotsOffset + 2*MinSlot

func key(t testing.TB, seed byte) ed25519.PrivateKey {
	t.Helper()
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
}

// image is a signed image of version v with a payload of n bytes.
func image(t testing.TB, priv ed25519.PrivateKey, v string, n int) []byte {
	t.Helper()
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i*7 + len(v))
	}
	h, err := Build(priv, v, "arm64", payload)
	if err != nil {
		t.Fatal(err)
	}
	return append(h, payload...)
}

// serve is a Fetch that hands out files from a map, in blocks of 1428
// bytes as TFTP would, stopping when the writer fails.
func serve(files map[string][]byte) func(context.Context, string, io.Writer, int64) error {
	return func(_ context.Context, url string, w io.Writer, limit int64) error {
		b, ok := files[url]
		if !ok {
			return fmt.Errorf("%s: not found", url)
		}
		if int64(len(b)) > limit {
			return errors.New("too large")
		}
		for len(b) > 0 {
			n := min(len(b), 1428)
			if _, err := w.Write(b[:n]); err != nil {
				return fmt.Errorf("aborted: %w", err)
			}
			b = b[n:]
		}
		return nil
	}
}

func TestImageRoundTrip(t *testing.T) {
	priv := key(t, 1)
	img := image(t, priv, "1.2.3", 1000)
	h, err := Verify(priv.Public().(ed25519.PublicKey), img)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != "1.2.3" || h.Arch != "arm64" || h.Length != 1000 {
		t.Errorf("header %+v", h)
	}
	if _, err := Verify(key(t, 2).Public().(ed25519.PublicKey), img); !errors.Is(err, ErrSignature) {
		t.Errorf("another key: %v, want ErrSignature", err)
	}
	for i := range HeaderSize {
		bad := bytes.Clone(img)
		bad[i] ^= 0x40
		if _, err := Verify(priv.Public().(ed25519.PublicKey), bad); err == nil {
			t.Fatalf("header byte %d flipped: accepted", i)
		}
	}
	if _, err := ParseHeader(img[:HeaderSize-1]); !errors.Is(err, ErrFormat) {
		t.Errorf("short header: %v", err)
	}
	for _, v := range []string{"", "1.2.x", "1..2", "v1", "1.2.3.4.5", strings.Repeat("1", 40)} {
		if _, err := Build(priv, v, "arm64", []byte{1}); err == nil {
			t.Errorf("version %q built", v)
		}
	}
	if _, err := Build(priv, "1.0", "arm64", nil); err == nil {
		t.Error("empty payload built")
	}
}

func TestRecordRoundTrip(t *testing.T) {
	r := Record{Active: B, Tries: 2, Previous: A, ConfirmSeconds: 30, VersionA: "1.0", VersionB: "1.1", Failed: "0.9", Note: "update to 0.9 failed, rolled back to 1.0"}
	got, err := UnmarshalRecord(r.Marshal())
	if err != nil || got != r {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	m := string(r.Marshal())
	for _, bad := range []string{
		"", "x" + m, strings.Replace(m, "active=B", "active=C", 1), strings.Replace(m, "tries=2", "tries=-1", 1),
		strings.Replace(m, "tries=2", "tries=02", 1), m + "tries=3\n", strings.TrimSuffix(m, "\n"),
		strings.Replace(m, "failed=0.9\n", "", 1), m + "extra=1\n", strings.Replace(m, "version.A=1.0", "version.A=x", 1),
	} {
		if _, err := UnmarshalRecord([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		name   string
		r      Record
		boot   Slot
		tries  int
		note   string
		failed string
	}{
		{"factory", Record{Active: Factory, Confirmed: true}, Factory, 0, "", ""},
		{"confirmed slot", Record{Active: A, Confirmed: true, VersionA: "1.1"}, A, 0, "", ""},
		{"unconfirmed with tries", Record{Active: B, Tries: 2, Previous: A, VersionA: "1.1", VersionB: "1.2"}, B, 1, "", ""},
		{"tries used up, back to A", Record{Active: B, Tries: 0, Previous: A, VersionA: "1.1", VersionB: "1.2"}, A, 0,
			"update to 1.2 failed, rolled back to 1.1", "1.2"},
		{"tries used up, back to factory", Record{Active: A, Tries: 0, Previous: Factory, VersionA: "1.1"}, Factory, 0,
			"update to 1.1 failed, rolled back to 1.0.0 (factory)", "1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r, _ := Next(tt.r, "1.0.0")
			if c.Boot != tt.boot || r.Tries != tt.tries || c.RolledBack != tt.note || r.Note != tt.note || r.Failed != tt.failed {
				t.Errorf("Next = %+v %+v", c, r)
			}
			if c.Boot != tt.r.Active && !r.Confirmed {
				t.Errorf("rolled back to an unconfirmed record: %+v", r)
			}
		})
	}
}

func newUpdater(t *testing.T, m *mem, running Slot, v string, files map[string][]byte) *Updater {
	t.Helper()
	d, err := NewDevice(m, int64(len(m.b)))
	if err != nil {
		t.Fatal(err)
	}
	return &Updater{Dev: d, Running: running, Version: v, Arch: "arm64", Fetch: serve(files), Logf: t.Logf}
}

func TestInstallRefuses(t *testing.T) {
	priv, other := key(t, 1), key(t, 2)
	pub := priv.Public().(ed25519.PublicKey)
	good := image(t, priv, "1.1.0", 300_000)
	altered := bytes.Clone(good)
	altered[len(altered)-10] ^= 1
	longer := append(bytes.Clone(good), 0)
	files := map[string][]byte{
		"tftp://s/good": good, "tftp://s/other-key": image(t, other, "1.1.0", 1000),
		"tftp://s/truncated": good[:len(good)-1], "tftp://s/header-only": good[:HeaderSize-3],
		"tftp://s/altered": altered, "tftp://s/longer": longer,
		"tftp://s/older": image(t, priv, "0.9.0", 1000), "tftp://s/same": image(t, priv, "1.0.0", 1000),
		"tftp://s/riscv": func() []byte {
			h, _ := Build(priv, "1.2.0", "riscv64", []byte{1, 2})
			return append(h, 1, 2)
		}(),
		"tftp://s/garbage": bytes.Repeat([]byte("x"), 4000),
	}
	tests := []struct {
		url, pin string
		key      ed25519.PublicKey
		want     error // nil: any error
		msg      string
	}{
		{url: "tftp://s/good", want: ErrSignature, msg: "no key"},
		{url: "tftp://s/other-key", key: pub, want: ErrSignature},
		{url: "tftp://s/truncated", key: pub, msg: "truncated"},
		{url: "tftp://s/header-only", key: pub, want: ErrFormat},
		{url: "tftp://s/altered", key: pub, want: ErrSignature, msg: "SHA-256"},
		{url: "tftp://s/longer", key: pub, want: ErrFormat},
		{url: "tftp://s/older", key: pub, want: ErrNotWanted, msg: "not newer"},
		{url: "tftp://s/same", key: pub, want: ErrNotWanted, msg: "running"},
		{url: "tftp://s/good", pin: "1.2.0", key: pub, want: ErrNotWanted, msg: "names 1.2.0"},
		{url: "tftp://s/riscv", key: pub, msg: "riscv64"},
		{url: "tftp://s/garbage", key: pub, want: ErrFormat},
		{url: "tftp://s/missing", key: pub, msg: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.url+tt.pin+tt.msg, func(t *testing.T) {
			m := newMem(devSize)
			u := newUpdater(t, m, Factory, "1.0.0", files)
			before, _ := u.Dev.Record()
			_, err := u.Install(context.Background(), Config{Key: tt.key, Version: tt.pin, Tries: 3, ConfirmSeconds: 60}, tt.url)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Install = %v, want %v containing %q", err, tt.want, tt.msg)
			}
			if after, _ := u.Dev.Record(); after != before {
				t.Errorf("the record changed on a refusal: %+v", after)
			}
		})
	}
}

func TestInstallThenBoot(t *testing.T) {
	priv := key(t, 1)
	pub := priv.Public().(ed25519.PublicKey)
	files := map[string][]byte{
		"tftp://s/1.1": image(t, priv, "1.1.0", 700_000), "tftp://s/0.9": image(t, priv, "0.9.0", 1000),
	}
	m := newMem(devSize)
	u := newUpdater(t, m, Factory, "1.0.0", files)
	c := Config{Key: pub, Tries: 2, ConfirmSeconds: 30}
	h, err := u.Install(context.Background(), c, "tftp://s/1.1")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := u.Dev.Record()
	want := Record{Active: A, Tries: 2, Previous: Factory, ConfirmSeconds: 30, VersionA: "1.1.0"}
	if r != want {
		t.Fatalf("record %+v, want %+v", r, want)
	}
	var out bytes.Buffer
	if got, err := u.Dev.ReadSlot(A, &out); err != nil || got != h || !bytes.Equal(out.Bytes(), files["tftp://s/1.1"][HeaderSize:]) {
		t.Fatalf("ReadSlot = %+v %v", got, err)
	}
	// Unconfirmed, A may not install: its fallback would go.
	ua := newUpdater(t, m, A, "1.1.0", files)
	if _, err := ua.Install(context.Background(), Config{Key: pub, Version: "0.9.0"}, "tftp://s/0.9"); err == nil {
		t.Error("an unconfirmed slot installed an update")
	}
	if ok, err := ua.Confirm(); !ok || err != nil {
		t.Fatalf("Confirm = %t %v", ok, err)
	}
	// Confirmed, a pinned older version goes to B.
	if _, err := ua.Install(context.Background(), Config{Key: pub, Version: "0.9.0", Tries: 1, ConfirmSeconds: 5}, "tftp://s/0.9"); err != nil {
		t.Fatal(err)
	}
	r, _ = u.Dev.Record()
	if r.Active != B || r.Previous != A || r.VersionB != "0.9.0" || r.Confirmed {
		t.Fatalf("record after the downgrade %+v", r)
	}
	// B never confirms: after its one try the phone goes back to A, and
	// does not take 0.9.0 again.
	c1, r, _ := Next(r, "1.0.0")
	c2, r, _ := Next(r, "1.0.0")
	if c1.Boot != B || c2.Boot != A || r.Note != "update to 0.9.0 failed, rolled back to 1.1.0" {
		t.Fatalf("boots %s then %s, record %+v", c1.Boot, c2.Boot, r)
	}
	u.Dev.WriteRecord(r)
	if _, err := ua.Install(context.Background(), Config{Key: pub, Version: "0.9.0"}, "tftp://s/0.9"); !errors.Is(err, ErrNotWanted) || !strings.Contains(err.Error(), "failed on this phone before") {
		t.Errorf("a failed version again: %v", err)
	}
}

// TestPowerCutWhileInstalling cuts the power after every number of
// bytes written in turn (at each write, and inside it) while an update
// is installed: whatever is on the device then boots, either the old
// firmware with the old record, or the new one whole.
func TestPowerCutWhileInstalling(t *testing.T) {
	priv := key(t, 1)
	pub := priv.Public().(ed25519.PublicKey)
	img := image(t, priv, "1.1.0", 3*chunk+1000)
	files := map[string][]byte{"tftp://s/i": img}
	// The writes of a whole install, to learn where to cut.
	full := newMem(devSize)
	if _, err := newUpdater(t, full, Factory, "1.0.0", files).Install(context.Background(), Config{Key: pub, Tries: 3, ConfirmSeconds: 9}, "tftp://s/i"); err != nil {
		t.Fatal(err)
	}
	total := full.written
	var cuts []int64
	for c := int64(0); c < total; c += HeaderSize / 2 {
		if c < 2*HeaderSize || c%(chunk/4) == 0 || c > total-4*HeaderSize {
			cuts = append(cuts, c)
		}
	}
	for _, k := range []int64{HeaderSize, HeaderSize + chunk, HeaderSize + 2*chunk, HeaderSize + 3*chunk} {
		cuts = append(cuts, k-1, k, k+1)
	}
	cuts = append(cuts, total-1, total) // inside the record's write, and none
	newSeen := 0
	for _, cut := range cuts {
		m := newMem(devSize)
		m.cutAfter = cut
		u := newUpdater(t, m, Factory, "1.0.0", files)
		u.Logf = nil
		_, ierr := u.Install(context.Background(), Config{Key: pub, Tries: 3, ConfirmSeconds: 9}, "tftp://s/i")
		m.cutAfter = -1
		// The phone comes back: a fresh device over what was written.
		d, err := NewDevice(m, devSize)
		if err != nil {
			t.Fatal(err)
		}
		r, err := d.Record()
		if err != nil {
			t.Fatalf("cut at %d: record: %v", cut, err)
		}
		switch r.Active {
		case Factory:
			if ierr == nil {
				t.Fatalf("cut at %d: Install succeeded but the record names the factory image", cut)
			}
		case A:
			newSeen++
			if _, err := d.ReadSlot(A, io.Discard); err != nil {
				t.Fatalf("cut at %d: the record names slot A, which does not read back: %v", cut, err)
			}
		default:
			t.Fatalf("cut at %d: record %+v", cut, r)
		}
	}
	if newSeen == 0 {
		t.Error("no cut came after the record was written")
	}
	t.Logf("%d cuts over %d bytes written; %d after the record", len(cuts), total, newSeen)
}

func TestResolveURL(t *testing.T) {
	for _, tt := range []struct{ base, ref, want string }{
		{"tftp://10.0.2.2", "phoned.img", "tftp://10.0.2.2/phoned.img"},
		{"tftp://10.0.2.2/phones", "fw/phoned.img", "tftp://10.0.2.2/phones/fw/phoned.img"},
		{"tftp://10.0.2.2", "tftp://other/x.img", "tftp://other/x.img"},
	} {
		if got, err := ResolveURL(tt.base, tt.ref); err != nil || got != tt.want {
			t.Errorf("ResolveURL(%q, %q) = %q %v, want %q", tt.base, tt.ref, got, err, tt.want)
		}
	}
	if _, err := ResolveURL("/etc/phone", "x.img"); err == nil {
		t.Error("relative to a folder, not a URL: accepted")
	}
	if err := Fetch(context.Background(), "http://x/y", io.Discard, 10); err == nil {
		t.Error("http fetched")
	}
}

func FuzzParseHeader(f *testing.F) {
	priv := key(f, 1)
	h, _ := Build(priv, "1.2.3", "arm64", []byte("payload"))
	f.Add(h)
	f.Add(h[:100])
	f.Fuzz(func(t *testing.T, b []byte) {
		hd, err := ParseHeader(b)
		if err != nil {
			return
		}
		if hd.Length <= 0 || hd.Length > MaxPayload || hd.Version == "" || hd.Arch == "" {
			t.Fatalf("accepted %+v", hd)
		}
		// What parses has exactly one encoding: Build's, but for the signature.
		again, _ := Build(priv, hd.Version, hd.Arch, make([]byte, 1))
		copy(again[offLen:offVersion], b[offLen:offVersion])
		if !bytes.Equal(again[:signedLen], b[:signedLen]) {
			t.Fatalf("two encodings of %+v", hd)
		}
	})
}

func FuzzUnmarshalRecord(f *testing.F) {
	f.Add(Record{Active: A, Tries: 1, VersionA: "1.0", Note: "n"}.Marshal())
	f.Add([]byte(recordMagic + "\nactive=B\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnmarshalRecord(b)
		if err != nil {
			return
		}
		if r2, err := UnmarshalRecord(r.Marshal()); err != nil || r2 != r {
			t.Fatalf("%+v does not round-trip: %+v %v", r, r2, err)
		}
	})
}

// TestInstallOverTFTP installs an image from tftpd-hpa through Fetch,
// and refuses one signed by another key after its first block.
func TestInstallOverTFTP(t *testing.T) {
	priv := key(t, 1)
	dir := t.TempDir()
	img := image(t, priv, "2.0.0", 400_000)
	os.WriteFile(filepath.Join(dir, "good.img"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "other.img"), image(t, key(t, 3), "2.0.0", 400_000), 0o644)
	addr := tftpdtest.Start(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m := newMem(devSize)
	u := newUpdater(t, m, Factory, "1.0.0", nil)
	u.Fetch = nil // the real one
	c := Config{Key: priv.Public().(ed25519.PublicKey), Tries: 1, ConfirmSeconds: 5}
	if _, err := u.Install(ctx, c, "tftp://"+addr+"/other.img"); !errors.Is(err, ErrSignature) {
		t.Fatalf("another key's image: %v", err)
	}
	if m.written > HeaderSize {
		t.Errorf("%d bytes written for a refused image", m.written)
	}
	if _, err := u.Install(ctx, c, "tftp://"+addr+"/good.img"); err != nil {
		t.Fatal(err)
	}
	if r, _ := u.Dev.Record(); r.Active != A || r.VersionA != "2.0.0" {
		t.Errorf("record %+v", r)
	}
}

// TestInstallOverHTTPS: an image comes over https from nginx through
// provision.Download with the provisioning trust (a test CA), as the
// phone passes it; one signed by another key is refused after its header
// and nothing past it is written.
func TestInstallOverHTTPS(t *testing.T) {
	priv := key(t, 1)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.img"), image(t, priv, "2.0.0", 400_000), 0o644)
	os.WriteFile(filepath.Join(dir, "other.img"), image(t, key(t, 3), "2.0.0", 400_000), 0o644)
	ca := testtool.NewCA(t, "fleet CA")
	leaf := ca.Issue(t, "fw", testtool.LeafOptions{Hosts: []string{"127.0.0.1"}})
	n := testtool.Nginx(t, testtool.NginxConfig{Root: dir, CertFile: leaf.CertFile, KeyFile: leaf.KeyFile})
	cfg := config.Default()
	cfg.ProvisionCA = base64.StdEncoding.EncodeToString(ca.Cert.Raw)
	hc, err := provision.NewHTTPClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m := newMem(devSize)
	u := newUpdater(t, m, Factory, "1.0.0", nil)
	u.Fetch = func(ctx context.Context, url string, w io.Writer, limit int64) error {
		_, err := provision.Download(ctx, url, w, limit, &provision.DownloadOptions{HTTP: hc})
		return err
	}
	c := Config{Key: priv.Public().(ed25519.PublicKey), Tries: 1, ConfirmSeconds: 5}
	if _, err := u.Install(ctx, c, "https://"+n.HTTPS+"/other.img"); !errors.Is(err, ErrSignature) {
		t.Fatalf("another key's image: %v", err)
	}
	if m.written > HeaderSize {
		t.Errorf("%d bytes written for a refused image", m.written)
	}
	if _, err := u.Install(ctx, c, "https://"+n.HTTPS+"/good.img"); err != nil {
		t.Fatal(err)
	}
	if r, _ := u.Dev.Record(); r.Active != A || r.VersionA != "2.0.0" {
		t.Errorf("record %+v", r)
	}
	// Without the CA the server is refused, in plain words.
	u2 := newUpdater(t, newMem(devSize), Factory, "1.0.0", nil)
	u2.Fetch = nil // the system roots only
	if _, err := u2.Install(ctx, c, "https://"+n.HTTPS+"/good.img"); !errors.Is(err, provision.ErrTLS) {
		t.Errorf("an untrusted server: %v", err)
	}
}
