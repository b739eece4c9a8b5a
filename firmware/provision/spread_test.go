package provision

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestSpread: with Spread, a phone with a stored configuration starts on
// it and fetches a random part of provision.spread_seconds later; each
// periodic resync waits its interval plus a random part of the window;
// a phone with nothing stored fetches at once. The clock is synctest's and
// the random numbers are the test's: every instant is exact.
func TestSpread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &memSource{}
		src.set("phone.cfg", "provision.resync_minutes = 10\nprovision.spread_seconds = 40\n")
		src.set(own, "line.1.user = 1001\n")
		st := newStore(t)
		var logs syncLogs
		var draws []int64
		next := []time.Duration{25 * time.Second, 5 * time.Second, 39 * time.Second}
		rnd := func(n int64) int64 {
			draws = append(draws, n)
			if len(next) == 0 {
				return 0
			}
			d := next[0]
			next = next[1:]
			return int64(d)
		}

		// A new phone: nothing stored, it fetches at once.
		p := &Provisioner{Source: src, OwnFile: own, Store: st, Spread: true, Rand: rnd, Logf: logs.logf}
		if _, err := p.Boot(t.Context()); err != nil || src.count() != 2 || len(draws) != 0 {
			t.Fatalf("new phone's Boot: %v, %d gets, %d draws", err, src.count(), len(draws))
		}

		// A restart: the stored configuration, no fetch until 25 s.
		start := time.Now()
		logs.reset()
		p = &Provisioner{Source: src, OwnFile: own, Store: st, Spread: true, Rand: rnd, Logf: logs.logf}
		cfg, err := p.Boot(t.Context())
		if err != nil || cfg.Lines[0].User != "1001" || src.count() != 2 {
			t.Fatalf("Boot on the stored configuration: %v, %d gets", err, src.count())
		}
		if !strings.Contains(logs.String(), "starting on the stored configuration (generation 1") || !strings.Contains(logs.String(), "the next fetch is in 25s") {
			t.Fatalf("log:\n%s", logs.String())
		}
		if len(draws) != 1 || draws[0] != int64(40*time.Second) {
			t.Fatalf("draws %v, want one in a 40 s window", draws)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		fetchedAt := func(want int) time.Duration {
			t.Helper()
			for src.count() < want {
				time.Sleep(time.Second)
				synctest.Wait()
			}
			return time.Since(start)
		}
		if at := fetchedAt(4); at != 25*time.Second {
			t.Errorf("first fetch at %s, want 25s", at)
		}
		// Periodic: 10 min plus 5 s, then 10 min plus 39 s.
		if at := fetchedAt(6); at != 25*time.Second+10*time.Minute+5*time.Second {
			t.Errorf("second fetch at %s", at)
		}
		if at := fetchedAt(8); at != 25*time.Second+20*time.Minute+44*time.Second {
			t.Errorf("third fetch at %s", at)
		}
		cancel()
		<-done
	})
}

// TestSpreadOff: without Spread (the sim board's folder) a phone with a
// stored configuration fetches at boot, as before.
func TestSpreadOff(t *testing.T) {
	src := &memSource{}
	src.set("phone.cfg", "provision.spread_seconds = 40\n")
	st := newStore(t)
	for i := range 2 {
		p := &Provisioner{Source: src, Store: st, Rand: func(int64) int64 { t.Fatal("drew a random number"); return 0 }}
		if _, err := p.Boot(t.Context()); err != nil || src.count() != i+1 {
			t.Fatalf("boot %d: %v, %d gets", i, err, src.count())
		}
	}
}
