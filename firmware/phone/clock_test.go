package phone

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/sipua"
)

// wallAt is a clock that reads at, when the test starts (inside a
// synctest bubble, whose own clock starts in 2000), and runs on with the
// bubble's.
func wallAt(at time.Time, known bool) func() (time.Time, bool) {
	off := at.Sub(time.Now())
	return func() (time.Time, bool) { return time.Now().Add(off), known }
}

// statusRows is the status row's texts among got.
func statusRows(got []string) []string {
	var rows []string
	for _, g := range got {
		if s, ok := strings.CutPrefix(g, "display 3 "); ok || g == "display 3" {
			rows = append(rows, s)
		}
	}
	return rows
}

func lastStatus(t *testing.T, got []string) string {
	t.Helper()
	rows := statusRows(got)
	if len(rows) == 0 {
		t.Fatalf("no status row in:\n  %s", strings.Join(got, "\n  "))
	}
	return rows[len(rows)-1]
}

func TestClockOnHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Date(2026, 12, 2, 8, 41, 30, 0, time.UTC) // 09:41:30 in Berlin
		l := startLiveDeps(t, func(c *config.Config) { c.TimeZone = "Europe/Berlin" }, func(d *Deps) { d.Clock = wallAt(at, true) })
		l.sleep(0)
		// startLive took Run's first screen: the idle screen again shows it.
		l.sip(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered}) // the idle screen again
		if got := lastStatus(t, l.out.take()); got != "09:41 Wed 2 Dec" {
			t.Errorf("on hook: %q", got)
		}
		l.sleep(29 * time.Second) // 09:41:59: nothing changes
		if rows := statusRows(l.out.take()); len(rows) != 0 {
			t.Errorf("changed within the minute: %q", rows)
		}
		l.sleep(time.Second) // 09:42:00
		if got := lastStatus(t, l.out.take()); got != "09:42 Wed 2 Dec" {
			t.Errorf("next minute: %q", got)
		}
		l.sleep(time.Hour) // once a minute, no more
		if rows := statusRows(l.out.take()); len(rows) != 60 || rows[59] != "10:42 Wed 2 Dec" {
			t.Errorf("an hour: %d updates, last %q", len(rows), rows[len(rows)-1])
		}
	})
}

func TestClockTwelveHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Date(2026, 7, 4, 21, 5, 0, 0, time.UTC) // 5:05pm in New York (EDT)
		l := startLiveDeps(t, func(c *config.Config) { c.TimeZone, c.TimeFormat = "America/New_York", "12h" },
			func(d *Deps) { d.Clock = wallAt(at, true) })
		l.sip(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered}) // the idle screen again
		if got := lastStatus(t, l.out.take()); got != "5:05pm Sat 4 Jul" {
			t.Errorf("12h: %q", got)
		}
	})
}

func TestCallTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Date(2026, 12, 2, 9, 41, 0, 0, time.UTC)
		l := startLiveDeps(t, nil, func(d *Deps) { d.Clock = wallAt(at, true) })
		l.sip(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered})
		l.sip(incoming(1, "1002"))
		l.sleep(3 * time.Second) // ringing: no timer yet
		for _, r := range statusRows(l.out.take()) {
			if r != "09:41 Wed 2 Dec" {
				t.Errorf("ringing: %q, want the time alone", r)
			}
		}
		l.hook(true)
		if got := lastStatus(t, l.out.take()); got != "09:41 Wed 2 Dec  0:00" {
			t.Errorf("answered: %q", got)
		}
		l.sleep(65 * time.Second)
		rows := statusRows(l.out.take())
		if len(rows) != 65 || rows[len(rows)-1] != "09:42 Wed 2 Dec  1:05" {
			t.Errorf("after 65 s: %d updates, last %q", len(rows), rows[len(rows)-1])
		}
		l.sleep(time.Hour)
		if got := lastStatus(t, l.out.take()); got != "10:42 Wed 2 Dec  1:01:05" {
			t.Errorf("after an hour: %q", got)
		}
		l.sip(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: 200})
		if got := lastStatus(t, l.out.take()); got != "10:42 Wed 2 Dec" {
			t.Errorf("hung up: %q", got)
		}
	})
}

// TestClockUnknown: a board that has not reached its NTP server shows no
// time, but the call timer still runs.
func TestClockUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startLiveDeps(t, nil, func(d *Deps) { d.Clock = wallAt(time.Unix(5, 0), false) })
		l.sip(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered}) // the idle screen again
		if got := lastStatus(t, l.out.take()); got != "" {
			t.Errorf("unknown time shown: %q", got)
		}
		l.sip(incoming(1, "1002"))
		l.hook(true)
		l.sleep(2 * time.Second)
		if got := lastStatus(t, l.out.take()); got != "0:02" {
			t.Errorf("call timer alone: %q", got)
		}
	})
}

func TestMissedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startLive(t, nil)
		for id := 1; id <= 2; id++ {
			l.sip(incoming(id, "1002"))
			l.sip(sipua.Event{Kind: sipua.CallEnded, Call: sipua.CallID(id), Code: 487}) // the caller gave up
		}
		has(t, l.out.take(), "display 1 2 missed")
		l.key("up") // the history is looked at
		l.key("cancel")
		l.sip(sipua.Event{Kind: sipua.RegChanged, Line: 1, RegState: sipua.Registered}) // the idle screen again
		for _, g := range l.out.take() {
			if strings.Contains(g, "missed") && strings.HasPrefix(g, "display 1 ") && !strings.Contains(g, "/") {
				t.Errorf("still counted after the history was seen: %q", g)
			}
		}
	})
}
