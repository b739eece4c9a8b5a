package audio

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// polled is the firmware's configuration: Process reads the sockets.
var polled = Config{PollReceive: true}

// TestNoAllocsPolled: the whole polled frame, sendto and recvmsg included,
// allocates nothing, and a 60 s call runs no GC.
func TestNoAllocsPolled(t *testing.T) {
	a, b := pair(t, polled, PCMU)
	step, earB := twoWay(t, a, b)
	for range 20 {
		step()
	}
	if n := testing.AllocsPerRun(500, step); n != 0 {
		t.Fatalf("allocs per frame = %v", n)
	}
	if err := a.e.SetTone("waiting"); err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range 3000 {
		step()
	}
	runtime.ReadMemStats(&m1)
	if m1.Mallocs-m0.Mallocs > 30 || m1.NumGC != m0.NumGC {
		t.Fatalf("during the call: %d allocations, %d GC cycles", m1.Mallocs-m0.Mallocs, m1.NumGC-m0.NumGC)
	}
	if st := b.e.Stats(); st.PacketsReceived != 3521 || ToneLevel(earB, 1000, 8000) < 0.2 {
		t.Fatalf("B received %d, hears 1000 Hz at %v", st.PacketsReceived, ToneLevel(earB, 1000, 8000))
	}
}

// TestPolledRTCP: reports on their own port are read by Process too.
func TestPolledRTCP(t *testing.T) {
	ea, _ := NewEngine(polled)
	eb, _ := NewEngine(polled)
	ca, cb, ra, rb := listen(t), listen(t), listen(t), listen(t)
	addr := func(c *net.UDPConn) *net.UDPAddr { return c.LocalAddr().(*net.UDPAddr) }
	o := func(rc, to *net.UDPConn) StreamOptions {
		return StreamOptions{RTCPConn: rc, RTCPRemote: addr(to), RTCPInterval: 100 * time.Millisecond}
	}
	if err := ea.StartStreamOptions(ca, addr(cb), PCMU, o(ra, rb)); err != nil {
		t.Fatal(err)
	}
	if err := eb.StartStreamOptions(cb, addr(ca), PCMU, o(rb, ra)); err != nil {
		t.Fatal(err)
	}
	defer ea.StopStream()
	defer eb.StopStream()
	mic, ear := make([]int16, 160), make([]int16, 160)
	for range 50 {
		ea.Process(mic, ear)
		eb.Process(mic, ear)
	}
	if runtime.GOOS == "linux" && (!ea.s.polled || ea.s.rtcpTx == nil || ea.s.rtcpTx != ea.s.rtcpRx) {
		t.Fatal("not polled, or RTCP not sent raw on its own socket")
	}
	for _, e := range []*Engine{ea, eb} {
		if st := e.Stats(); st.RTCPSent < 5 || st.RTCPReceived < 4 || st.PacketsReceived < 49 {
			t.Errorf("%+v", st)
		}
	}
}

// TestPolledRTCPMux: reports on the RTP socket (rtcp-mux) are sent raw
// through its poller and read from it.
func TestPolledRTCPMux(t *testing.T) {
	ea, _ := NewEngine(polled)
	eb, _ := NewEngine(polled)
	ca, cb := listen(t), listen(t)
	addr := func(c *net.UDPConn) *net.UDPAddr { return c.LocalAddr().(*net.UDPAddr) }
	o := StreamOptions{RTCPMux: true, RTCPInterval: 100 * time.Millisecond}
	if err := ea.StartStreamOptions(ca, addr(cb), PCMU, o); err != nil {
		t.Fatal(err)
	}
	if err := eb.StartStreamOptions(cb, addr(ca), PCMU, o); err != nil {
		t.Fatal(err)
	}
	defer ea.StopStream()
	defer eb.StopStream()
	mic, ear := make([]int16, 160), make([]int16, 160)
	for range 50 {
		ea.Process(mic, ear)
		eb.Process(mic, ear)
	}
	if runtime.GOOS == "linux" && (ea.s.rtcpTx == nil || ea.s.rtcpTx != ea.s.rx) {
		t.Fatal("RTCP not sent raw through the RTP socket's poller")
	}
	for _, e := range []*Engine{ea, eb} {
		if st := e.Stats(); st.RTCPSent < 5 || st.RTCPReceived < 4 || st.PacketsReceived < 49 || st.SendErrors != 0 {
			t.Errorf("%+v", st)
		}
	}
}

// TestPolledClosedUnder: a socket the caller closes under a polled stream
// ends its receiving (one read error), and StopStream returns at once.
func TestPolledClosedUnder(t *testing.T) {
	e, _ := NewEngine(polled)
	conn, peer := listen(t), listen(t)
	if err := e.StartStream(conn, peer.LocalAddr().(*net.UDPAddr), PCMA); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	mic, ear := make([]int16, 160), make([]int16, 160)
	for range 3 {
		e.Process(mic, ear)
	}
	e.StopStream()
	if st := e.Stats(); runtime.GOOS == "linux" && st.ReadErrors != 1 {
		t.Fatalf("read errors %d, want 1", st.ReadErrors)
	}
}

// TestActive: a tone or a stream makes the engine Active and signals
// Activity; neither leaves it inactive.
func TestActive(t *testing.T) {
	e, _ := NewEngine(polled)
	if e.Active() {
		t.Fatal("a new engine is active")
	}
	select {
	case <-e.Activity():
		t.Fatal("a signal before any activity")
	default:
	}
	if err := e.SetTone("dial"); err != nil {
		t.Fatal(err)
	}
	if !e.Active() {
		t.Fatal("not active with dial tone")
	}
	select {
	case <-e.Activity():
	default:
		t.Fatal("no signal for the tone")
	}
	e.SetTone("none")
	if e.Active() {
		t.Fatal("active after the tone stopped")
	}
	conn, peer := listen(t), listen(t)
	if err := e.StartStream(conn, peer.LocalAddr().(*net.UDPAddr), PCMA); err != nil {
		t.Fatal(err)
	}
	if !e.Active() {
		t.Fatal("not active with a stream up")
	}
	select {
	case <-e.Activity():
	default:
		t.Fatal("no signal for the stream")
	}
	e.StopStream()
	if e.Active() {
		t.Fatal("active after StopStream")
	}
}

// TestDigitReady: a received digit signals DigitReady once.
func TestDigitReady(t *testing.T) {
	e, _ := NewEngine(polled)
	select {
	case <-e.DigitReady():
		t.Fatal("a signal before any digit")
	default:
	}
	e.mu.Lock()
	e.pushDigit('5')
	e.pushDigit('6')
	e.mu.Unlock()
	select {
	case <-e.DigitReady():
	default:
		t.Fatal("no signal")
	}
	if d, ok := e.ReadDigit(); !ok || d != '5' {
		t.Fatalf("ReadDigit = %c %v", d, ok)
	}
}

// BenchmarkProcessPolled is BenchmarkProcessLoopback with PollReceive: the
// same frame period of two engines over 127.0.0.1, the packets read by
// Process, no goroutine to wake.
func BenchmarkProcessPolled(b *testing.B) {
	a, c := pair(b, polled, PCMU)
	micA, micB, earA, earB := make([]int16, 160), make([]int16, 160), make([]int16, 160), make([]int16, 160)
	var pa, pb float64
	Sine(micA, 1000, 0.5, 8000, &pa)
	Sine(micB, 600, 0.5, 8000, &pb)
	step := func() {
		a.e.Process(micA, earA)
		c.e.Process(micB, earB)
	}
	for range 5 {
		step()
	}
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
	if ToneLevel(earA, 600, 8000) < 0.2 || ToneLevel(earB, 1000, 8000) < 0.2 {
		b.Fatal("no tone out")
	}
}

// TestRestartAllocsPolled: a polled stream stopped and started again on
// the same sockets (a hold and its resume) reuses its pollers and the
// sockets' epoll registrations found the first time: it allocates
// nothing.
func TestRestartAllocsPolled(t *testing.T) {
	e, _ := NewEngine(polled)
	conn, rconn, peer, rpeer := listen(t), listen(t), listen(t), listen(t)
	to, rto := peer.LocalAddr().(*net.UDPAddr), rpeer.LocalAddr().(*net.UDPAddr)
	o := StreamOptions{RTCPConn: rconn, RTCPRemote: rto}
	if err := e.StartStreamOptions(conn, to, PCMU, o); err != nil {
		t.Fatal(err)
	}
	defer e.StopStream()
	first := e.s.rx
	n := testing.AllocsPerRun(20, func() {
		e.StopStream()
		if err := e.StartStreamOptions(conn, to, PCMU, o); err != nil {
			t.Fatal(err)
		}
	})
	if runtime.GOOS == "linux" && (e.s.rx != first || e.s.rtcpRx == nil) {
		t.Fatal("the stream started again with new pollers")
	}
	if n != 0 {
		t.Errorf("%.1f allocations a stop and start on the same sockets, want 0", n)
	}
}
