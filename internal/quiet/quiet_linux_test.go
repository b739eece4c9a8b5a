package quiet

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestMuteUnmute: Mute takes a socket out of the runtime's epoll interest
// (no events but EPOLLET), Unmute restores its registration verbatim, and
// the caller's blocking read works as before.
func TestMuteUnmute(t *testing.T) {
	conn, rc, fd := udpSocket(t)
	before, ok := Registered(fd)
	if !ok {
		t.Fatal("the socket is in no epoll instance")
	}
	var q Socket
	if !q.Mute(rc) {
		t.Fatal("Mute changed nothing")
	}
	if ev, _ := Registered(fd); ev&^0x18 != 1<<31 { // EPOLLERR and EPOLLHUP are always on
		t.Fatalf("events %#x muted, want EPOLLET alone", ev)
	}
	q.Unmute(rc)
	if ev, _ := Registered(fd); ev != before {
		t.Fatalf("events %#x after Unmute, want %#x", ev, before)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		c, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
		if err == nil {
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	if n, _, err := conn.ReadFromUDP(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("blocking read after Unmute: %q, %v", buf[:n], err)
	}
}

// TestMuteAgainAllocs: a Socket keeps the registration its first Mute
// found, so muting and unmuting the same socket again (a stream stopped
// and started: a hold and its resume) allocates nothing and still
// restores the registration verbatim.
func TestMuteAgainAllocs(t *testing.T) {
	_, rc, fd := udpSocket(t)
	before, _ := Registered(fd)
	var q Socket
	if !q.Mute(rc) {
		t.Fatal("Mute changed nothing")
	}
	q.Unmute(rc)
	allocs := testing.AllocsPerRun(20, func() {
		if !q.Mute(rc) {
			t.Fatal("a second Mute changed nothing")
		}
		q.Unmute(rc)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations a Mute and Unmute of a socket muted before, want 0", allocs)
	}
	if ev, _ := Registered(fd); ev != before {
		t.Fatalf("events %#x after Unmute, want %#x", ev, before)
	}
}

// udpSocket is a UDP socket on 127.0.0.1 (closed when the test ends), its
// RawConn and its descriptor.
func udpSocket(t *testing.T) (*net.UDPConn, syscall.RawConn, int) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	rc.Control(func(f uintptr) { fd = int(f) })
	return conn, rc, fd
}
