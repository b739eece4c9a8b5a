package audio

import (
	"net"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/quiet"
	"github.com/deskphone/deskphone/internal/testtool"
)

// TestQuiet: a polled stream takes its socket out of the runtime's epoll
// interest (no wake-up per datagram) and StopStream gives it back: the
// caller's blocking read works as before.
func TestQuiet(t *testing.T) {
	conn, peer := listen(t), listen(t)
	events := func() uint32 {
		var fd int
		rc, _ := conn.SyscallConn()
		rc.Control(func(f uintptr) { fd = int(f) })
		ev, ok := quiet.Registered(fd)
		if !ok {
			t.Fatal("the socket is in no epoll instance")
		}
		return ev
	}
	before := events()
	e, _ := NewEngine(polled)
	if err := e.StartStream(conn, peer.LocalAddr().(*net.UDPAddr), PCMA); err != nil {
		t.Fatal(err)
	}
	if ev := events() &^ 0x18; ev != 1<<31 { // EPOLLERR and EPOLLHUP are always on
		t.Fatalf("events %#x with the stream up, want EPOLLET alone", ev)
	}
	if !e.s.rawTx {
		t.Fatal("not sending raw")
	}
	mic, ear := make([]int16, 160), make([]int16, 160)
	e.Process(mic, ear)
	peer.SetReadDeadline(time.Now().Add(deadline))
	buf := make([]byte, 300)
	if n, from, err := peer.ReadFromUDP(buf); err != nil || n != 172 || from.Port != conn.LocalAddr().(*net.UDPAddr).Port {
		t.Fatalf("raw send: %d bytes from %v, %v", n, from, err)
	}
	e.StopStream()
	if ev := events(); ev != before {
		t.Fatalf("events %#x after StopStream, want %#x", ev, before)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		peer.WriteToUDP([]byte("hello"), conn.LocalAddr().(*net.UDPAddr))
	}()
	conn.SetReadDeadline(time.Now().Add(deadline))
	if n, _, err := conn.ReadFromUDP(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("blocking read after StopStream: %q, %v", buf[:n], err)
	}
}

// TestRawSendIPv6: a dual-stack socket sends to an IPv4 peer (as
// ::ffff:a.b.c.d) with the raw sendto.
func TestRawSendIPv6(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{})
	if err != nil {
		testtool.Missing(t, "a dual-stack UDP socket: %v", err) // IPv6 off on this machine
	}
	defer conn.Close()
	peer := listen(t)
	e, _ := NewEngine(polled)
	if err := e.StartStream(conn, peer.LocalAddr().(*net.UDPAddr), PCMU); err != nil {
		t.Fatal(err)
	}
	defer e.StopStream()
	mic, ear := make([]int16, 160), make([]int16, 160)
	e.Process(mic, ear)
	peer.SetReadDeadline(time.Now().Add(deadline))
	buf := make([]byte, 300)
	if n, _, err := peer.ReadFromUDP(buf); err != nil || n != 172 {
		t.Fatalf("raw send over a dual-stack socket: %d, %v (raw %v)", n, err, e.s.rawTx)
	}
	if st := e.Stats(); st.SendErrors != 0 {
		t.Fatalf("%+v", st)
	}
}
