package interop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/pbx"
)

func startKamailio(t *testing.T, ctx context.Context, defines ...string) *Kamailio {
	t.Helper()
	bin := need(t, "kamailio")
	if KamailioModules() == "" {
		t.Skip("kamailio's modules are not installed")
	}
	cfg, err := filepath.Abs("testdata/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	port, err := lab.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	k, err := StartKamailio(ctx, KamailioOptions{Binary: bin, Config: cfg, Dir: t.TempDir(), Port: port, Defines: defines})
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
					for _, ph := range l.Phones {
						if b, err := os.ReadFile(filepath.Join(dir, "console-"+ph.Ext+".log")); err == nil {
							t.Logf("console of %s:\n%s", ph.Ext, b)
						}
					}
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
