package interop

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/pbx"
)

func startKamailio(t *testing.T, ctx context.Context, defines ...string) *Kamailio {
	t.Helper()
	return startKamailioWith(t, ctx, false, defines...)
}

// startKamailioWith is startKamailio listening on TCP too (at the UDP
// port) when tcp is set.
func startKamailioWith(t *testing.T, ctx context.Context, tcp bool, defines ...string) *Kamailio {
	t.Helper()
	return startKamailioOpts(t, ctx, KamailioOptions{TCP: tcp, Defines: defines})
}

// startKamailioOpts starts Kamailio with testdata/kamailio.cfg and o, the
// binary, the folder and (when o has none) a port held for the test filled
// in; it is stopped when the test ends, its log shown if the test failed.
func startKamailioOpts(t *testing.T, ctx context.Context, o KamailioOptions) *Kamailio {
	t.Helper()
	o.Binary = need(t, "kamailio")
	if KamailioModules() == "" {
		testtool.Missing(t, "kamailio's modules are not installed")
	}
	cfg, err := filepath.Abs("testdata/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	o.Config, o.Dir = cfg, t.TempDir()
	if o.Port == 0 {
		o.Port = testtool.Port(t) // UDP and TCP, held for the test
	}
	k, err := StartKamailio(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		k.Stop()
		if t.Failed() {
			t.Logf("kamailio log:\n%s", k.Log())
		}
	})
	return k
}

// TestKamailioCall: two sim-board phones register with Kamailio (digest,
// MD5 and SHA-256) and 1001 calls 1002 through it: every step of the basic
// call seen at Kamailio, and audio both ways.
func TestKamailioCall(t *testing.T) {
	for _, tc := range []struct {
		name    string
		defines []string
		alg     string
	}{
		{"MD5", nil, "MD5"},
		{"SHA-256", []string{"WITH_SHA256"}, "SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			k := startKamailio(t, ctx, tc.defines...)
			dir := t.TempDir()
			l, err := lab.Start(ctx, lab.Options{Board: lab.Sim, Exts: []string{"1001", "1002"}, Dir: dir,
				Users: pbx.DefaultUsers(), External: k.Addr.String(), Logf: t.Logf})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				l.Close()
				if t.Failed() {
					l.LogConsoles(t.Logf)
				}
			}()
			regCtx, cancelReg := context.WithTimeout(ctx, 15*time.Second)
			took, err := l.WaitRegistered(regCtx)
			cancelReg()
			if err != nil {
				t.Fatal(err)
			}
			// Each REGISTER was challenged (401) with the algorithm asked for
			// and then accepted (200).
			var challenged, accepted int
			for _, e := range k.Ladder() {
				if e.Method == "REGISTER" && e.Dir == "out" {
					switch e.Status {
					case 401:
						challenged++
					case 200:
						accepted++
					}
				}
			}
			if challenged < 2 || accepted < 2 {
				t.Fatalf("REGISTERs at kamailio: %d challenged, %d accepted; want 2 each", challenged, accepted)
			}
			r, err := l.BasicCallVia(ctx, l.Phones[0], l.Phones[1], k.Ladder, func(s string) { t.Log(s) })
			if err != nil {
				t.Fatal(err)
			}
			// Both REGISTERs and the INVITE passed Kamailio's digest check
			// with the algorithm it offered.
			var regs, invites int
			for _, a := range k.Authenticated() {
				alg := "MD5" // no algorithm parameter means MD5
				if _, after, ok := strings.Cut(a, "algorithm="); ok {
					alg, _, _ = strings.Cut(after, ",")
				}
				if alg != tc.alg {
					t.Errorf("credentials without algorithm=%s: %s", tc.alg, a)
				}
				switch {
				case strings.HasPrefix(a, "REGISTER "):
					regs++
				case strings.HasPrefix(a, "INVITE 1001 "):
					invites++
				}
			}
			if regs < 2 || invites != 1 {
				t.Errorf("authenticated at kamailio: %d REGISTERs, %d INVITEs from 1001; want 2 and 1", regs, invites)
			}
			r.BootToRegistered = took
			t.Logf("ladder at kamailio:\n%s", r.FormatLadder())
			t.Logf("summary:\n%s", r.Summary())
			if err := r.OK(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestKamailioRefreshStale: Kamailio grants 10 s bindings and its nonces
// expire after 4 s, so each refresh's cached credentials are stale: the
// phone answers the stale=true challenge at once and stays registered
// through several refreshes, its panel never showing a failure.
func TestKamailioRefreshStale(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	k := startKamailio(t, ctx, "WITH_SHORT", "WITH_SHA256")
	dir := t.TempDir()
	l, err := lab.Start(ctx, lab.Options{Board: lab.Sim, Exts: []string{"1001", "1002"}, Dir: dir,
		Users: pbx.DefaultUsers(), External: k.Addr.String(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	marks := map[string]int{}
	for _, ph := range l.Phones {
		marks[ph.Ext] = ph.Panel.Mark()
	}
	// Two refreshes each (at 5 s and 10 s after registering).
	time.Sleep(12 * time.Second)
	for _, ph := range l.Phones {
		// The lines seen so far: a wait that is over at once.
		now, stop := context.WithTimeout(ctx, 10*time.Millisecond)
		line, err := ph.Panel.WaitAfter(now, marks[ph.Ext], regexp.MustCompile(`^reg 1 (failed|unregistered)`))
		stop()
		if err == nil {
			t.Errorf("%s: %s", ph.Ext, line)
		}
		st, err := ph.Panel.Status(ctx)
		if err != nil || !strings.Contains(st, "reg=1:registered") {
			t.Errorf("%s: status %q %v", ph.Ext, st, err)
		}
	}
	// Per phone: each REGISTER answered 401, stale or 200; after the first
	// challenge, every stale one followed at once by a 200.
	for _, ext := range []string{"1001", "1002"} {
		var seq []string
		for _, e := range k.Ladder() {
			if e.Method == "REGISTER" && e.Dir == "out" && e.From == ext {
				seq = append(seq, strings.TrimPrefix(e.Summary, "401 Unauthorized "))
			}
		}
		t.Logf("%s: kamailio answered its REGISTERs: %s", ext, strings.Join(seq, ", "))
		stale, ok := 0, 0
		for i, s := range seq {
			switch {
			case s == "(stale)":
				stale++
				if i+1 < len(seq) && seq[i+1] != "200 OK" {
					t.Errorf("%s: stale answered by %q", ext, seq[i+1])
				}
			case s == "200 OK":
				ok++
			}
		}
		if len(seq) == 0 || seq[0] != "401 Unauthorized" || stale < 2 || ok < 3 {
			t.Errorf("%s: want a first challenge, then at least 2 stale refreshes each answered: %q", ext, seq)
		}
	}
}
