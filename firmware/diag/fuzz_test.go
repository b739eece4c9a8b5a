package diag

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzRFC5424: whatever a log line and a host name hold, the message put
// on the wire has RFC 5424's header shape (PRI, VERSION, six fields of
// printable US-ASCII without spaces, the NILVALUE structured data), the
// MSGID read off the line is such a field of at most 32 characters, and
// the line itself follows unchanged.
func FuzzRFC5424(f *testing.F) {
	f.Add("sipua: line 1 registered", "525400123456")
	f.Add("phone: error: line 1: wrong password for 1001 (403)", "")
	f.Add("sip: sent UDP to 127.0.0.1:5060 (12 bytes)\nOPTIONS sip:x SIP/2.0\r\n", "my phone")
	f.Add(": \x00\xff", "\t")
	f.Fuzz(func(t *testing.T, msg, host string) {
		line := []byte(msg)
		id := MsgIDOf(line)
		if len(id) > 32 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Fatalf("MSGID %q", id)
		}
		sev := SeverityOf(line)
		b := AppendRFC5424(nil, Message{Severity: sev, Time: time.Unix(0, 0).UTC(), Hostname: host, AppName: "phoned", ProcID: "1", MsgID: id, Msg: line})
		head, rest, ok := bytes.Cut(b, []byte(">1 "))
		if !ok || head[0] != '<' {
			t.Fatalf("no PRI and VERSION: %q", b)
		}
		fields := bytes.SplitN(rest, []byte(" "), 7)
		if len(fields) < 6 || string(fields[5]) != "-" {
			t.Fatalf("header %q", rest)
		}
		for _, fl := range fields[:5] {
			if len(fl) == 0 || bytes.ContainsFunc(fl, func(r rune) bool { return r <= ' ' || r > '~' }) {
				t.Fatalf("field %q in %q", fl, b)
			}
		}
		if len(line) > 0 && !bytes.HasSuffix(b, append([]byte(" - "), line...)) {
			t.Fatalf("message changed: %q", b)
		}
	})
}
