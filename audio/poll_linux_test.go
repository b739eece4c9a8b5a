package audio

import (
	"net"
	"testing"
	"time"
)

// The Linux poller's own tests (PollReceive elsewhere falls back to a
// reader goroutine; poll_other.go).

// TestPolledEndToEnd: with PollReceive, no reader goroutine runs and each
// Process reads what arrived: a tone each way, every packet received, in
// the order the audio loop works (send, read, play out).
func TestPolledEndToEnd(t *testing.T) {
	for _, ptime := range []int{10, 20, 30} {
		cfg := polled
		cfg.Ptime = ptime
		a, b := pair(t, cfg, PCMA)
		if !a.e.s.polled || !b.e.s.polled {
			t.Fatal("streams not polled")
		}
		step, earB := twoWay(t, a, b)
		frames := 3000 / ptime
		for range frames {
			step()
		}
		if l := ToneLevel(earB, 1000, 8000); ptime == 20 && l < 0.2 { // twoWay's frames are 20 ms
			t.Fatalf("%d ms: B hears 1000 Hz at %v", ptime, l)
		}
		for i, s := range []side{a, b} {
			st := s.e.Stats()
			// A has not yet read B's last packet: its next Process would.
			want := uint64(frames - 1 + i)
			if st.PacketsSent != uint64(frames) || st.PacketsReceived != want || st.Lost != 0 || st.Invalid != 0 {
				t.Errorf("%d ms: %+v", ptime, st)
			}
		}
		// B's earlier packets, never read by a goroutine, were all Process's.
		if got := len(b.recv); got != frames && got != cap(b.recv) {
			t.Errorf("%d ms: onReceive %d times, want %d", ptime, got, frames)
		}
	}
}

// TestPollerStamp: a datagram's arrival is when the kernel took it, not
// when it was read.
func TestPollerStamp(t *testing.T) {
	conn, peer := listen(t), listen(t)
	p := newPoller(conn)
	if ok, err := p.read(); ok || err != nil || !p.empty {
		t.Fatalf("read of nothing: %v %v empty=%v", ok, err, p.empty)
	}
	// Linux turns receive timestamps on for the whole system through
	// deferred work the first time a socket asks (net_enable_timestamp):
	// a datagram that arrives before that work ran is stamped when it is
	// read. So a few tries, of which one must carry the kernel's stamp.
	var d time.Duration
	for try := 0; try < 5; try++ {
		sent := time.Now()
		if _, err := peer.WriteToUDP([]byte("hello"), conn.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		ok, err := p.read()
		if !ok || err != nil || string(p.buf[:p.n]) != "hello" || p.from != peer.LocalAddr().(*net.UDPAddr).AddrPort() {
			t.Fatalf("read %v %v: %q from %v", ok, err, p.buf[:p.n], p.from)
		}
		if d = p.at.Sub(sent); d >= -time.Millisecond && d <= 20*time.Millisecond {
			break
		}
	}
	if d < -time.Millisecond || d > 20*time.Millisecond {
		t.Fatalf("arrival %v after the send, want about 0 (read 50 ms later)", d)
	}
	if n := testing.AllocsPerRun(100, func() { p.read() }); n != 0 {
		t.Fatalf("allocs per read = %v", n)
	}
}

// TestPollerBatch: datagrams come out in order, several to a system call;
// a batch that came back short says the socket is drained, so a frame's
// one packet costs one recvmmsg and not a second that finds nothing.
func TestPollerBatch(t *testing.T) {
	conn, peer := listen(t), listen(t)
	p := newPoller(conn)
	to := conn.LocalAddr().(*net.UDPAddr)
	send := func(n, from int) {
		for i := range n {
			if _, err := peer.WriteToUDP([]byte{byte(from + i)}, to); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	send(1, 0)
	if ok, err := p.read(); !ok || err != nil || p.n != 1 || p.buf[0] != 0 {
		t.Fatalf("one datagram: %v %v %v", ok, err, p.buf[:p.n])
	}
	if !p.drained() {
		t.Fatal("one datagram waiting, read: not drained")
	}
	const n = rxBatch*2 + 1
	send(n, 1)
	for i := range n {
		ok, err := p.read()
		if !ok || err != nil || p.n != 1 || int(p.buf[0]) != 1+i {
			t.Fatalf("datagram %d: %v %v %v", i, ok, err, p.buf[:p.n])
		}
		if want := i == n-1; p.drained() != want {
			t.Fatalf("after datagram %d of %d: drained %v", i+1, n, p.drained())
		}
	}
	if ok, err := p.read(); ok || err != nil || !p.empty {
		t.Fatalf("read of nothing: %v %v empty=%v", ok, err, p.empty)
	}
	send(2, 100)
	if ok, _ := p.read(); !ok || p.buf[0] != 100 {
		t.Fatal("first of two")
	}
	p.unmute() // a stream stopped: the batch's rest is dropped
	if ok, err := p.read(); ok || err != nil {
		t.Fatalf("after unmute: %v %v %v", ok, err, p.buf[:p.n])
	}
}
