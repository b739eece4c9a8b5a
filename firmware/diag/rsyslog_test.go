package diag

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestSyslogToRsyslog sends the phone's log through a Log to Debian's
// rsyslogd on loopback, which parses each datagram as RFC 5424 and writes
// the fields it read: the host name, APP-NAME, PROCID, MSGID, severity
// and message must be the ones the phone sent.
func TestSyslogToRsyslog(t *testing.T) {
	addr, file := testtool.Rsyslog(t)
	s, err := DialSyslog(SyslogConfig{Addr: addr, Hostname: "525400123456"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := NewLog(LogConfig{})
	l.SetSyslog(s)
	l.Write([]byte("sipua: line 1 registered\n"))
	l.Write([]byte("app: error: line 1: wrong password for 1001 (403)\n"))
	l.Write([]byte("boot +12ms: SIP on 127.0.0.1:5060\n"))
	pid := strconv.Itoa(os.Getpid())
	want := []string{
		"525400123456 phoned " + pid + " sipua info sipua: line 1 registered",
		"525400123456 phoned " + pid + " app err app: error: line 1: wrong password for 1001 (403)",
		"525400123456 phoned " + pid + " - info boot +12ms: SIP on 127.0.0.1:5060",
	}
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got, _ = os.ReadFile(file)
		if bytes.Contains(got, []byte(want[len(want)-1])) {
			break
		}
	}
	var lines []string
	for _, line := range strings.Split(string(got), "\n") {
		if strings.HasPrefix(line, "525400123456 ") {
			lines = append(lines, line)
		}
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rsyslogd wrote (file %q)\n%s\nwant\n%s", got, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if sent, dropped := s.Counts(); sent != 3 || dropped != 0 {
		t.Fatalf("sent %d, dropped %d", sent, dropped)
	}
}

// A syslog server that is not there costs nothing: the ICMP errors make
// later sends fail, and they are dropped, never waited for.
func TestSyslogNobodyListens(t *testing.T) {
	port := testtool.Port(t)
	s, err := DialSyslog(SyslogConfig{Addr: "127.0.0.1:" + strconv.Itoa(port), Hostname: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 20 {
		s.Send(time.Now(), SevInfo, []byte("x"))
	}
	if sent, dropped := s.Counts(); sent+dropped != 20 || dropped == 0 {
		t.Fatalf("sent %d, dropped %d: a refused server's datagrams are dropped", sent, dropped)
	}
}

func TestSyslogSendAllocs(t *testing.T) {
	port := testtool.Port(t)
	s, err := DialSyslog(SyslogConfig{Addr: "127.0.0.1:" + strconv.Itoa(port), Hostname: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msg := []byte("sipua: line 1 registered")
	now := time.Now()
	s.Send(now, SevInfo, msg)
	if n := testing.AllocsPerRun(200, func() { s.Send(now, SevInfo, msg) }); n != 0 {
		t.Fatalf("Syslog.Send: %v allocations", n)
	}
}
