package pbx

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

func TestParseUsers(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"1001:pw1,1002:pw2", map[string]string{"1001": "pw1", "1002": "pw2"}, false},
		{"# a comment\n 1001 : pw1 \n\n1002:pw2,\n", map[string]string{"1001": "pw1", "1002": "pw2"}, false},
		{"", map[string]string{}, false},
		{"1001", nil, true},
		{"1001:", nil, true},
		{":pw", nil, true},
		{"1001:a,1001:b", nil, true},
		{"10 01:pw", nil, true},
		{"a@b:pw", nil, true},
	} {
		got, err := ParseUsers(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseUsers(%q) error = %v", tc.in, err)
			continue
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "pbx: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("ParseUsers(%q) = %v, want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseUsers(%q)[%s] = %q, want %q", tc.in, k, got[k], v)
			}
		}
	}
}

func TestDefaultUsers(t *testing.T) {
	u := DefaultUsers()
	if len(u) != 10 || u["1001"] != "pw1001" || u["1010"] != "pw1010" || u["1011"] != "" {
		t.Errorf("DefaultUsers = %v", u)
	}
}

func TestNewChecks(t *testing.T) {
	for _, cfg := range []Config{
		{Listen: "nonsense"},
		{Realm: `a"b`},
		{Users: map[string]string{"1001": ""}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Addr() != nil || p.Registered("1001") {
		t.Error("a PBX that was never started has an address or a binding")
	}
	if err := p.WaitRegistered(context.Background(), "1001"); err != ErrClosed {
		t.Errorf("WaitRegistered before Start = %v", err)
	}
}

func TestStartTwiceAndContext(t *testing.T) {
	p, err := New(Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err == nil {
		t.Error("second Start accepted")
	}
	cancel()
	// Once the context ends the PBX stops: WaitRegistered reports it.
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := p.WaitRegistered(wctx, "1001"); err != ErrClosed {
		t.Errorf("WaitRegistered after the context ended = %v", err)
	}
	p.Close()
}

func TestLadderBounded(t *testing.T) {
	l := ladder{size: 3}
	for i := 0; i < 5; i++ {
		l.add(Entry{Summary: itoa(i)})
	}
	var got []string
	for _, e := range l.snapshot() {
		got = append(got, e.Summary)
	}
	if strings.Join(got, ",") != "2,3,4" {
		t.Errorf("ladder keeps %v, want the last three in order", got)
	}
}

func TestFormatLadder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	peer := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}
	parse := func(s string) *sipmsg.Message {
		m, err := sipmsg.Parse([]byte(strings.ReplaceAll(s, "\n", "\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	inv := parse("INVITE sip:1002@pbx SIP/2.0\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\nFrom: <sip:1001@pbx>;tag=1\nTo: <sip:1002@pbx>\nCall-ID: c\nCSeq: 1 INVITE\nContent-Length: 0\n\n")
	ring := parse("SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\nFrom: <sip:1001@pbx>;tag=1\nTo: <sip:1002@pbx>;tag=2\nCall-ID: c\nCSeq: 1 INVITE\nContent-Length: 0\n\n")
	opt := parse("OPTIONS sip:pbx SIP/2.0\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\nFrom: <sip:pbx>;tag=1\nTo: <sip:pbx>\nCall-ID: d\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n")
	entries := []Entry{
		newEntry(t0, "in", peer, inv, nil),
		newEntry(t0.Add(2*time.Millisecond), "out", peer, inv, nil),
		newEntry(t0.Add(10*time.Millisecond), "in", peer, ring, nil),
		newEntry(t0.Add(11*time.Millisecond), "out", peer, ring, nil),
		newEntry(t0.Add(20*time.Millisecond), "in", peer, opt, nil),
		newEntry(t0.Add(30*time.Millisecond), "in", peer, nil, []byte("garbage\r\n")),
	}
	got := FormatLadder(entries, map[string]string{"1001": "alice"})
	want := "" +
		"+0.000s  alice    -> PBX       INVITE sip:1002@pbx\n" +
		"+0.002s  PBX      -> 1002      INVITE sip:1002@pbx\n" +
		"+0.010s  1002     -> PBX       180 Ringing\n" +
		"+0.011s  PBX      -> alice     180 Ringing\n" +
		"+0.020s  127.0.0.1:5070 -> PBX       OPTIONS sip:pbx\n" +
		"+0.030s  127.0.0.1:5070 -> PBX       (unparseable) garbage\n"
	if got != want {
		t.Errorf("FormatLadder:\n%s\nwant:\n%s", got, want)
	}
	if e := entries[0]; e.Method != "INVITE" || e.CallID != "c" || e.From != "1001" || e.To != "1002" || !e.Request {
		t.Errorf("entry = %+v", e)
	}
	if s := entries[2].String(); !strings.Contains(s, "1002 -> PBX  180 Ringing") || !strings.Contains(s, "127.0.0.1:5070") {
		t.Errorf("Entry.String() = %q", s)
	}
	if FormatLadder(nil, nil) != "" {
		t.Error("empty ladder is not empty")
	}
}

func TestReadUsersFile(t *testing.T) {
	u, err := ReadUsersFile("testdata/users.txt")
	if err != nil || len(u) != 3 || u["1003"] != "pw1003" {
		t.Errorf("ReadUsersFile = %v, %v", u, err)
	}
	if _, err := ReadUsersFile("testdata/none.txt"); err == nil || !strings.HasPrefix(err.Error(), "pbx: ") {
		t.Errorf("missing file: %v", err)
	}
}

func TestStartAfterClose(t *testing.T) {
	p, err := New(Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := p.Start(context.Background()); err != ErrClosed {
		t.Errorf("Start after Close = %v", err)
	}
}
