package testtool

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// RsyslogFields is the template Rsyslog's output file is written with:
// one line per message, the RFC 5424 fields rsyslog parsed, space
// separated, then the message.
const RsyslogFields = "%HOSTNAME% %APP-NAME% %PROCID% %MSGID% %syslogseverity-text% %msg%\n"

// Rsyslog starts rsyslogd (Debian's rsyslog) in the foreground with a
// configuration of its own: imudp on 127.0.0.1 at a port held for the
// test, RFC 5424 parsing, and every message written to a file in
// t.TempDir() through RsyslogFields. Its ruleset parses RFC 5424 only
// (rsyslog.rfc5424, no fallback to RFC 3164): a message that is not
// RFC 5424 is written as rsyslog's parse failure, never as the fields. It returns the address to send to
// and the file, once rsyslogd has written a probe of its own there (at
// most 10 s). rsyslogd is killed when the test ends, its output logged if
// the test failed. Without rsyslogd the test stops as Need says.
func Rsyslog(t testing.TB) (addr, file string) {
	t.Helper()
	bin := Need(t, "rsyslogd")
	dir := t.TempDir()
	port := Port(t)
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	file = filepath.Join(dir, "messages")
	conf := filepath.Join(dir, "rsyslog.conf")
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
template(name="fields" type="string" string=%q)
ruleset(name="test" parser="rsyslog.rfc5424") {
	action(type="omfile" file=%q template="fields" flushOnTXEnd="on" asyncWriting="off")
}
input(type="imudp" address="127.0.0.1" port="%d" ruleset="test")
`, dir, RsyslogFields, file, port)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	proc := Daemon(t, "rsyslogd", bin, []string{"-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid")}, "", 0)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	probe := []byte("<14>1 - testtool probe - - - testtool probe")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-proc.Exited():
			t.Fatalf("testtool: rsyslogd exited: %v\n%s", proc.State(), proc.Output())
		default:
		}
		c.Write(probe) // refused until imudp listens: sent again
		time.Sleep(100 * time.Millisecond)
		if b, err := os.ReadFile(file); err == nil && bytes.Contains(b, []byte("testtool probe")) {
			return addr, file
		}
	}
	t.Fatalf("testtool: rsyslogd on %s wrote nothing to %s in 10 s\n%s", addr, file, proc.Output())
	return "", ""
}
