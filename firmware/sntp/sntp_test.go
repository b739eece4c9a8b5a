package sntp

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

func TestTimestampRoundTrip(t *testing.T) {
	for _, s := range []string{
		"1970-01-01T00:00:00Z",
		"2026-12-02T09:41:07.25Z",
		"2036-02-07T06:28:15Z", // the last second of era 0
		"2036-02-07T06:28:16Z", // the first of era 1: seconds wrap to 0
		"2100-03-01T12:00:00.5Z",
	} {
		want, _ := time.Parse(time.RFC3339Nano, s)
		got := TimestampOf(want).Time()
		if d := got.Sub(want); d < -time.Nanosecond || d > time.Nanosecond {
			t.Errorf("%s: round trip %s", s, got.UTC().Format(time.RFC3339Nano))
		}
	}
	// Era 1's first second is 0 in the packet (RFC 4330 section 3).
	if ts := TimestampOf(time.Date(2036, 2, 7, 6, 28, 16, 0, time.UTC)); ts>>32 != 0 {
		t.Errorf("2036-02-07T06:28:16Z: seconds %d, want 0", ts>>32)
	}
}

func TestPacketRoundTrip(t *testing.T) {
	p := Packet{Leap: 1, Version: 4, Mode: ModeServer, Stratum: 2, Poll: 6, Precision: -20,
		RootDelay: 0x00010000, RootDisp: 42, RefID: [4]byte{192, 0, 2, 1},
		Reference: 1, Origin: 2, Receive: 3, Transmit: 4}
	b := p.AppendTo(nil)
	if len(b) != PacketLen {
		t.Fatalf("%d bytes", len(b))
	}
	if b[0] != 1<<6|4<<3|4 {
		t.Errorf("first byte %#x", b[0])
	}
	got, err := Parse(append(b, make([]byte, 20)...)) // an extension field after it is ignored
	if err != nil || got != p {
		t.Fatalf("Parse = %+v, %v; want %+v", got, err, p)
	}
	if _, err := Parse(b[:47]); !errors.Is(err, ErrShort) {
		t.Errorf("47 bytes: %v", err)
	}
}

func TestCheck(t *testing.T) {
	t1 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	sent := TimestampOf(t1)
	// The server is 10 s ahead; 4 ms each way, 2 ms in the server.
	good := Packet{Version: 4, Mode: ModeServer, Stratum: 2, Origin: sent,
		Receive: TimestampOf(t1.Add(10*time.Second + 4*time.Millisecond)), Transmit: TimestampOf(t1.Add(10*time.Second + 6*time.Millisecond))}
	t4 := t1.Add(10 * time.Millisecond)
	off, delay, err := Check(good, sent, t1, t4)
	if err != nil {
		t.Fatal(err)
	}
	if d := off - 10*time.Second; d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("offset %v, want 10s", off)
	}
	if d := delay - 8*time.Millisecond; d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("delay %v, want 8ms", delay)
	}
	for _, c := range []struct {
		name string
		edit func(*Packet)
		kiss string
	}{
		{"client mode", func(p *Packet) { p.Mode = ModeClient }, ""},
		{"broadcast", func(p *Packet) { p.Mode = ModeBroadcast }, ""},
		{"version 2", func(p *Packet) { p.Version = 2 }, ""},
		{"version 5", func(p *Packet) { p.Version = 5 }, ""},
		{"another request's answer", func(p *Packet) { p.Origin++ }, ""},
		{"kiss-o'-death", func(p *Packet) { p.Stratum = 0; p.RefID = [4]byte{'R', 'A', 'T', 'E'} }, "RATE"},
		{"stratum 16", func(p *Packet) { p.Stratum = 16 }, ""},
		{"not synchronised", func(p *Packet) { p.Leap = LeapNotSynced }, ""},
		{"no transmit time", func(p *Packet) { p.Transmit = 0 }, ""},
	} {
		p := good
		c.edit(&p)
		_, _, err := Check(p, sent, t1, t4)
		if err == nil {
			t.Errorf("%s: taken", c.name)
			continue
		}
		var k *KissError
		if errors.As(err, &k) != (c.kiss != "") || (k != nil && k.Code != c.kiss) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestQueryIgnoresStrayAnswers: an answer that does not echo the request's
// transmit time (an old one, or a forger's) is not taken; the real one
// after it is.
func TestQueryIgnoresStrayAnswers(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		buf := make([]byte, 512)
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		req, err := Parse(buf[:n])
		if err != nil || req.Mode != ModeClient || req.Version != 4 {
			return
		}
		now := TimestampOf(time.Now().Add(time.Hour))
		stray := Packet{Version: 4, Mode: ModeServer, Stratum: 1, Origin: req.Transmit + 1, Receive: now, Transmit: now}
		c.WriteTo(stray.AppendTo(nil), from)
		c.WriteTo([]byte("short"), from)
		real := Packet{Version: 4, Mode: ModeServer, Stratum: 3, Origin: req.Transmit, Receive: now, Transmit: now}
		c.WriteTo(real.AppendTo(nil), from)
	}()
	r, err := Query(context.Background(), c.LocalAddr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Stratum != 3 || r.Offset < 59*time.Minute || r.Offset > 61*time.Minute {
		t.Errorf("took %+v, want stratum 3 and an hour's offset", r)
	}
}

func TestQueryNoAnswer(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close() // bound, silent
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := Query(ctx, c.LocalAddr().String(), nil); err == nil {
		t.Fatal("a silent server answered")
	}
}

// TestChrony asks a real NTP server, chronyd on loopback serving the
// host's clock: the offset is the host clock's against itself.
func TestChrony(t *testing.T) {
	server := testtool.Chrony(t)
	var r Result
	var err error
	for try := 0; try < 20; try++ { // chronyd may take a moment to answer
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		r, err = Query(ctx, server, nil)
		cancel()
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if r.Stratum != 8 {
		t.Errorf("stratum %d, want chrony's local stratum 8", r.Stratum)
	}
	if r.Offset < -time.Second || r.Offset > time.Second {
		t.Errorf("offset %v against the same host's clock", r.Offset)
	}
	t.Logf("chronyd %s: offset %v, delay %v", r.Server, r.Offset, r.Delay)

	// A Clock a day behind (a board that lost its time) is put right.
	var set time.Time
	c := &Clock{Set: func(t time.Time) error { set = t; return nil }}
	c.offset = -24 * time.Hour
	if now, ok := c.Current(); ok != !now.Before(Known) {
		t.Errorf("Current before sync: %v %v", now, ok)
	}
	got, err := c.Sync(context.Background(), []string{"127.0.0.1:1", server})
	if err != nil {
		t.Fatal(err)
	}
	if got.Offset < 23*time.Hour || set.Sub(time.Now()).Abs() > time.Second {
		t.Errorf("offset %v, clock set to %v", got.Offset, set)
	}
	if now, ok := c.Current(); !ok || now.Sub(time.Now()).Abs() > time.Second {
		t.Errorf("after sync Current = %v, %v", now, ok)
	}
}

func TestCurrentBeforeKnown(t *testing.T) {
	c := &Clock{}
	c.offset = time.Date(1970, 1, 1, 0, 0, 5, 0, time.UTC).Sub(time.Now()) // a Pi just booted
	if _, ok := c.Current(); ok {
		t.Error("a 1970 clock is shown")
	}
	c.apply(Result{Offset: 0})
	if _, ok := c.Current(); !ok {
		t.Error("synchronised clock not shown")
	}
}

func TestSpread(t *testing.T) {
	if got := Spread(time.Hour, 0); got != time.Hour {
		t.Errorf("0: %v", got)
	}
	if got := Spread(time.Hour, 0.999); got < time.Hour || got > 66*time.Minute {
		t.Errorf("0.999: %v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Packet{Version: 4, Mode: ModeServer, Stratum: 1, Transmit: 7}.AppendTo(nil))
	f.Add(make([]byte, 47))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		if got := p.AppendTo(nil); string(got) != string(b[:PacketLen]) {
			t.Fatalf("round trip %x != %x", got, b[:PacketLen])
		}
		Check(p, p.Origin, time.Unix(0, 0), time.Unix(1, 0))
		p.Transmit.Time()
	})
}
