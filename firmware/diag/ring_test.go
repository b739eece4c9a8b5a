package diag

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestRingKeepsNewest(t *testing.T) {
	r := NewRing(MinRingSize)
	for i := range 100 {
		fmt.Fprintf(r, "line %03d\n", i)
	}
	var out bytes.Buffer
	n, err := r.WriteTo(&out)
	if err != nil || n != int64(out.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d", n, err, out.Len())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// 256 bytes hold 256/(4+9) = 19 records of 9 bytes.
	if len(lines) != 19 || lines[len(lines)-1] != "line 099" || lines[0] != "line 081" {
		t.Fatalf("kept %d lines: first %q last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	st := r.Stats()
	if st.Records != 19 || st.Dropped != 81 || st.Size != MinRingSize {
		t.Fatalf("stats %+v", st)
	}
}

func TestRingWrapsRecordsWhole(t *testing.T) {
	// Records of varying length, so headers and bodies straddle the end.
	r := NewRing(300)
	var want []string
	for i := range 200 {
		s := strings.Repeat(string(rune('a'+i%26)), 1+i%37) + "\n"
		r.Write([]byte(s))
		want = append(want, s)
	}
	var out bytes.Buffer
	r.WriteTo(&out)
	got := out.String()
	if !strings.HasSuffix(strings.Join(want, ""), got) || got == "" {
		t.Fatalf("ring holds %q, not a suffix of what was written", got)
	}
	if st := r.Stats(); st.Bytes > 300 || st.Records != strings.Count(got, "\n") {
		t.Fatalf("stats %+v for %d lines", st, strings.Count(got, "\n"))
	}
}

func TestRingTruncatesHugeRecord(t *testing.T) {
	r := NewRing(MinRingSize)
	n, err := r.Write(bytes.Repeat([]byte("x"), 1000))
	if n != 1000 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	var out bytes.Buffer
	r.WriteTo(&out)
	if out.Len() != MinRingSize-recHeader {
		t.Fatalf("kept %d bytes", out.Len())
	}
}

// lapWriter writes more records into the ring each time it is written to,
// as a phone logging fast while a slow browser reads.
type lapWriter struct {
	r   *Ring
	out bytes.Buffer
}

func (w *lapWriter) Write(p []byte) (int, error) {
	w.out.Write(p)
	for i := range 50 {
		fmt.Fprintf(w.r, "new %02d\n", i)
	}
	return len(p), nil
}

func TestRingWriteToWhileOverwritten(t *testing.T) {
	r := NewRing(4096)
	for i := range 1000 {
		fmt.Fprintf(r, "old %04d %s\n", i, strings.Repeat("-", 40))
	}
	w := &lapWriter{r: r}
	if _, err := r.WriteTo(w); err != nil {
		t.Fatal(err)
	}
	got := w.out.String()
	if !strings.Contains(got, lostMark) || strings.Contains(got, "new ") {
		t.Fatalf("a lapped read says so and stops at the records there were: %q", got)
	}
}

func TestRingWriteToError(t *testing.T) {
	r := NewRing(1024)
	r.Write([]byte("a line\n"))
	n, err := r.WriteTo(failWriter{})
	if err == nil || n != 0 {
		t.Fatalf("WriteTo = %d, %v", n, err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// The web page takes the rings as io.WriterTo.
var _ io.WriterTo = (*Ring)(nil)

func TestRingWriteAllocs(t *testing.T) {
	r := NewRing(DefaultLogRing)
	line := []byte("phone: call 1 connected to 1002\n")
	if n := testing.AllocsPerRun(1000, func() { r.Write(line) }); n != 0 {
		t.Fatalf("Write: %v allocations", n)
	}
}

func TestLogLine(t *testing.T) {
	var console bytes.Buffer
	at := time.Date(2026, 12, 2, 7, 1, 2, 345678000, time.UTC)
	l := NewLog(LogConfig{Console: &console, Prefix: "phoned: ", Now: func() time.Time { return at }})
	l.Write([]byte("sipua: line 1 registered\n"))
	l.Printf("phone: %s", "idle")
	if got := console.String(); got != "phoned: 07:01:02.345678 sipua: line 1 registered\nphoned: 07:01:02.345678 phone: idle\n" {
		t.Fatalf("console %q", got)
	}
	var recent bytes.Buffer
	l.Recent().WriteTo(&recent)
	if got := recent.String(); got != "2026-12-02T07:01:02.345678Z sipua: line 1 registered\n2026-12-02T07:01:02.345678Z phone: idle\n" {
		t.Fatalf("recent %q", got)
	}
}

func TestLogAllocs(t *testing.T) {
	l := NewLog(LogConfig{Console: io.Discard, Prefix: "phoned: "})
	line := []byte("sipua: line 1 registered\n")
	l.Write(line) // the line buffer grows once
	if n := testing.AllocsPerRun(1000, func() { l.Write(line) }); n != 0 {
		t.Fatalf("Log.Write: %v allocations", n)
	}
}

func TestSeverityOf(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want Severity
	}{
		{"sipua: line 1 registered", SevInfo},
		{"error: line 1: wrong password for 1001 (403)", SevError},
		{"app: error: registrar 127.0.0.1:5060 does not answer", SevError},
		{"fatal: no configuration", SevError},
		{"warning: line 1: registrar 10.0.0.1:5060 does not answer (retrying)", SevWarning},
		{"phone: the attempt failed: x", SevInfo},
		{"a message: with a colon: error: late", SevInfo},
		{"", SevInfo},
	} {
		if got := SeverityOf([]byte(c.msg)); got != c.want {
			t.Errorf("SeverityOf(%q) = %v, want %v", c.msg, got, c.want)
		}
	}
}

func TestAppendRFC5424(t *testing.T) {
	at := time.Date(2026, 12, 2, 7, 1, 2, 345678000, time.UTC)
	for _, c := range []struct {
		m    Message
		want string
	}{
		{Message{Severity: SevInfo, Time: at, Hostname: "525400123456", AppName: "phoned", ProcID: "1", MsgID: "sipua", Msg: []byte("sipua: line 1 registered")},
			"<14>1 2026-12-02T07:01:02.345678Z 525400123456 phoned 1 sipua - sipua: line 1 registered"},
		{Message{Severity: SevError, Time: at.In(time.FixedZone("x", 3600)), AppName: "phoned", ProcID: "77", Msg: []byte("error: x")},
			"<11>1 2026-12-02T08:01:02.345678+01:00 - phoned 77 - - error: x"},
		{Message{Severity: SevWarning, Hostname: "my phone\x01", AppName: strings.Repeat("a", 60)},
			"<12>1 - my_phone_ " + strings.Repeat("a", 48) + " - - -"},
	} {
		if got := string(AppendRFC5424(nil, c.m)); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

func TestMsgIDOf(t *testing.T) {
	for msg, want := range map[string]string{
		"sipua: line 1 registered": "sipua",
		"boot +12ms: SIP on":       "",
		"no prefix here":           "",
		": empty":                  "",
	} {
		if got := MsgIDOf([]byte(msg)); got != want {
			t.Errorf("MsgIDOf(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestTraceRecord(t *testing.T) {
	at := time.Date(2026, 12, 2, 7, 1, 2, 0, time.UTC)
	tr := NewTrace(0, func() time.Time { return at })
	var logged bytes.Buffer
	msg := []byte("OPTIONS sip:1001@127.0.0.1 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n")
	peer := netip.MustParseAddrPort("127.0.0.1:5060")
	tr.Message(true, "UDP", peer, msg)
	tr.SetLog(&logged)
	tr.Message(false, "TCP", peer, []byte("SIP/2.0 200 OK\r\n\r\n"))
	var out bytes.Buffer
	tr.Ring().WriteTo(&out)
	want := "2026-12-02T07:01:02.000000Z sent UDP to 127.0.0.1:5060 (" + fmt.Sprint(len(msg)) + " bytes)\n" + string(msg) + "\n" +
		"2026-12-02T07:01:02.000000Z received TCP from 127.0.0.1:5060 (18 bytes)\nSIP/2.0 200 OK\r\n\r\n\n"
	if out.String() != want {
		t.Fatalf("trace\n%q\nwant\n%q", out.String(), want)
	}
	if got := logged.String(); got != "sip: received TCP from 127.0.0.1:5060 (18 bytes)\nSIP/2.0 200 OK\r\n\r\n" {
		t.Fatalf("logged %q", got)
	}
}

func TestTraceAllocs(t *testing.T) {
	tr := NewTrace(0, nil)
	l := NewLog(LogConfig{Console: io.Discard})
	msg := bytes.Repeat([]byte("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"), 20)
	peer := netip.MustParseAddrPort("127.0.0.1:5060")
	tr.Message(true, "UDP", peer, msg)
	if n := testing.AllocsPerRun(500, func() { tr.Message(true, "UDP", peer, msg) }); n != 0 {
		t.Fatalf("Trace.Message, log.sip off: %v allocations", n)
	}
	tr.SetLog(l)
	tr.Message(true, "UDP", peer, msg)
	if n := testing.AllocsPerRun(500, func() { tr.Message(false, "UDP", peer, msg) }); n != 0 {
		t.Fatalf("Trace.Message, log.sip on: %v allocations", n)
	}
}

func BenchmarkTraceMessage(b *testing.B) {
	tr := NewTrace(0, nil)
	msg := bytes.Repeat([]byte("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"), 20)
	peer := netip.MustParseAddrPort("127.0.0.1:5060")
	b.ReportAllocs()
	for b.Loop() {
		tr.Message(true, "UDP", peer, msg)
	}
}

func BenchmarkLogWrite(b *testing.B) {
	l := NewLog(LogConfig{Console: io.Discard})
	line := []byte("sipua: line 1 registered\n")
	b.ReportAllocs()
	for b.Loop() {
		l.Write(line)
	}
}
