package lab

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestClockSim: two sim phones set their clocks from chronyd on loopback
// (ntp.server), show the time in their zone on the status row (display
// row 3), and during a call the call timer beside it.
func TestClockSim(t *testing.T) {
	testtool.Long(t, "make e2e")
	ntp := testtool.Chrony(t)
	cfg := "ntp.server = " + ntp + "\ntime.zone = Asia/Tokyo\n"
	f := startFlow(t, []string{"1001", "1002"}, map[string]string{"1001": cfg, "1002": cfg})

	// The panel attached after boot: the idle screen comes again with the
	// registration; the row holds Tokyo's time now (or a minute on).
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	var alts []string
	for _, d := range []time.Duration{-time.Minute, 0, time.Minute} {
		alts = append(alts, regexp.QuoteMeta(time.Now().Add(d).In(tokyo).Format("15:04 Mon 2 Jan")))
	}
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^ring on`)
	f.Do("1002", "hook off")
	f.Expect("1001", `^phone connected$`)
	f.ExpectWithin("1001", `^display 3 (`+strings.Join(alts, "|")+`)  0:0[1-9]$`, 15*time.Second)
	f.HangupAll()
	f.Expect("1001", `^display 3 (`+strings.Join(alts, "|")+`)$`)

	b, err := os.ReadFile(f.Lab.opts.Dir + "/console-1001.log")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "sntp: "+ntp+": offset ") {
		t.Errorf("console of 1001 has no SNTP synchronisation with %s:\n%s", ntp, b)
	}
}
