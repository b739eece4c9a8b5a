package transport

import (
	"net"
	"testing"
	"time"
)

func TestLoopback(t *testing.T) {
	a, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(func(p []byte, from *net.UDPAddr) { got <- string(p) + " " + from.String() }) }()
	if err := b.Send([]byte("OPTIONS"), a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "OPTIONS "+b.LocalAddr().String() {
			t.Fatalf("got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram")
	}
	a.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve after Close: %v", err)
	}
	if err := b.Send([]byte("x"), nil); err == nil {
		t.Fatal("Send to nil accepted")
	}
}

func TestResolve(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":      "127.0.0.1:5060",
		"127.0.0.1:5070": "127.0.0.1:5070",
		"[::1]":          "[::1]:5060",
		"[::1]:5062":     "[::1]:5062",
	} {
		a, err := Resolve(in)
		if err != nil || a.String() != want {
			t.Errorf("Resolve(%q) = %v, %v", in, a, err)
		}
	}
	ip, err := LocalIPFor(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060})
	if err != nil || !ip.IsLoopback() {
		t.Errorf("LocalIPFor loopback = %v, %v", ip, err)
	}
}
