package lab

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestVoicemailOfUnregistered: 1001 calls 1002, which is not registered;
// the development PBX answers from 1002's mailbox and says so
// (History-Info, P-Asserted-Identity), and the phone shows "Voicemail of
// 1002", not "Talking to 1002". The vm key of a lab phone reaches the
// PBX's mailboxes (voicemail.number = 8000, set by the lab).
func TestVoicemailOfUnregistered(t *testing.T) {
	f := startFlow(t, []string{"1001"}, nil)
	f.Do("1001", "hook off")
	f.Expect("1001", `^tone dial$`)
	f.Do("1001", "dial 1002")
	f.Expect("1001", `^display 1 Voicemail of 1002$`)
	f.HangupAll()
	f.Do("1001", "key vm")
	f.Expect("1001", `^call \d+ calling 8000$`)
	f.Expect("1001", `^call \d+ connected`)
	f.HangupAll()
}

// TestSyslogAndSIPLogSim: a sim phone with log.syslog naming Debian's
// rsyslogd on loopback and log.sip on: rsyslogd parses its RFC 5424
// messages (host name, APP-NAME phoned, its PID, the MSGID from the line's
// package) and gets the registration; the console has the REGISTER and
// its 200 whole.
func TestSyslogAndSIPLogSim(t *testing.T) {
	addr, file := testtool.Rsyslog(t)
	f := startFlow(t, []string{"1001"}, map[string]string{"1001": "log.syslog = " + addr + "\nlog.sip = on\n"})
	host, _ := os.Hostname()
	pid := strconv.Itoa(f.Phone("1001").PID())
	want := host + " phoned " + pid + " sipua info sipua: line 1 registered"
	var got []byte
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if got, _ = os.ReadFile(file); bytes.Contains(got, []byte(want)) {
			break
		}
	}
	if !bytes.Contains(got, []byte(want)) {
		t.Fatalf("rsyslogd has no %q:\n%s", want, got)
	}
	console, err := os.ReadFile(filepath.Join(f.Lab.opts.Dir, "console-1001.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`sip: sent UDP to 127\.0\.0\.1:\d+ \(\d+ bytes\)\nREGISTER sip:`).Match(console) ||
		!regexp.MustCompile(`sip: received UDP from 127\.0\.0\.1:\d+ \(\d+ bytes\)\nSIP/2\.0 200 OK`).Match(console) {
		t.Fatalf("console without the REGISTER and its 200:\n%s", console)
	}
}
