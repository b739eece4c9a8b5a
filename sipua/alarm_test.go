package sipua

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestAlarmSlack: an alarm with slack fires at the loop's first turn after
// its moment (a posted call, another alarm), or at its moment plus slack
// when nothing wakes the loop before; never before its moment. The
// loop's clock is armed for the latest moments, so it does not wake for
// the lax alarm's own moment.
func TestAlarmSlack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ua, err := New(Config{Listen: "127.0.0.1:5060", Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		runLoop(t, ua)
		type firing struct {
			what string
			at   time.Duration
		}
		fired := make(chan firing, 8)
		var start time.Time
		lax := func(d time.Duration) {
			start = time.Now()
			ua.post(func() {
				(*loopClock)(ua).AfterFuncLax(d, 32*time.Second, func() { fired <- firing{"lax", time.Since(start)} })
			})
		}
		expect := func(what string, at time.Duration) {
			t.Helper()
			if f := <-fired; f.what != what || f.at != at {
				t.Errorf("%s fired at %v, want %s at %v", f.what, f.at, what, at)
			}
		}
		idle := func(what string) {
			t.Helper()
			synctest.Wait()
			select {
			case f := <-fired:
				t.Errorf("%s: %s fired at %v", what, f.what, f.at)
			default:
			}
		}

		// Alone: at its moment plus its slack.
		lax(5 * time.Second)
		time.Sleep(36 * time.Second)
		idle("nothing due before the moment plus slack")
		expect("lax", 37*time.Second)

		// A turn of the loop before its moment leaves it; the first one
		// after runs it, on that turn.
		lax(5 * time.Second)
		time.Sleep(3 * time.Second)
		ua.post(func() {})
		idle("a turn before the moment")
		time.Sleep(7 * time.Second)
		ua.post(func() {})
		expect("lax", 10*time.Second)

		// Another alarm's firing carries it, earliest moment first.
		lax(5 * time.Second)
		ua.post(func() { ua.after(20*time.Second, func() { fired <- firing{"plain", time.Since(start)} }) })
		expect("lax", 20*time.Second)
		expect("plain", 20*time.Second)

		// A lax alarm stopped before it fires never does.
		var stop func() bool
		start = time.Now()
		ua.post(func() {
			a := (*loopClock)(ua).AfterFuncLax(time.Second, time.Second, func() { fired <- firing{"stopped", time.Since(start)} })
			stop = a.Stop
		})
		synctest.Wait()
		ua.post(func() {
			if !stop() {
				t.Error("Stop of an armed lax alarm said it was not armed")
			}
		})
		time.Sleep(5 * time.Second)
		idle("a stopped lax alarm")

		// Many: a turn at 10.5 s runs the ten due, in order of their
		// moments; the loop's clock then wakes at the earliest latest
		// moment left (11 s + 32 s), and runs all ten that are due by then.
		start = time.Now()
		order := make(chan int, 32)
		ua.post(func() {
			for i := 20; i >= 1; i-- { // armed out of order
				(*loopClock)(ua).AfterFuncLax(time.Duration(i)*time.Second, 32*time.Second, func() {
					order <- i
					fired <- firing{"many", time.Since(start)}
				})
			}
		})
		time.Sleep(10*time.Second + 500*time.Millisecond)
		ua.post(func() {})
		for want := 1; want <= 10; want++ {
			if got := <-order; got != want {
				t.Errorf("alarm %d ran where %d was due", got, want)
			}
			expect("many", 10*time.Second+500*time.Millisecond)
		}
		idle("after the turn at 10.5 s")
		for want := 11; want <= 20; want++ {
			if got := <-order; got != want {
				t.Errorf("alarm %d ran where %d was due", got, want)
			}
			expect("many", 43*time.Second)
		}

		if err := ua.do(func() error {
			if ua.lax != 0 || len(ua.alarms) != 0 {
				t.Errorf("after the firings: %d lax of %d alarms armed", ua.lax, len(ua.alarms))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
