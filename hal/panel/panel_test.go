package panel

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/internal/testtool"
)

// deadline bounds every wait on the other side of a socket.
const deadline = 10 * time.Second

type testClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (c *testClient) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\n"); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

func (c *testClient) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(deadline))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read line: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\n")
}

func (c *testClient) expect(want string) {
	c.t.Helper()
	if got := c.line(); got != want {
		c.t.Fatalf("got line %q, want %q", got, want)
	}
}

// startServer serves a panel on a unix socket in a temporary directory; the
// returned channel gets "control" or "audio" each time a client becomes the
// current one.
func startServer(t *testing.T) (*Server, string, chan string) {
	t.Helper()
	s := New("sim", "v0.1")
	hooks := make(chan string, 16)
	s.sessionHook = func(k string) { hooks <- k }
	s.codec.micHook = make(chan struct{}, 1)
	sock := filepath.Join(t.TempDir(), "p.sock")
	if err := s.Listen("unix:" + sock); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, sock, hooks
}

func waitHook(t *testing.T, hooks chan string, want string) {
	t.Helper()
	select {
	case k := <-hooks:
		if k != want {
			t.Fatalf("session %q, want %q", k, want)
		}
	case <-time.After(deadline):
		t.Fatalf("no %s session", want)
	}
}

func dial(t *testing.T, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialControl(t *testing.T, sock string) *testClient {
	t.Helper()
	c := dial(t, sock)
	tc := &testClient{t: t, conn: c, r: bufio.NewReader(c)}
	tc.expect("ready sim v0.1 panel/4")
	if l := tc.line(); !strings.HasPrefix(l, "audio ") {
		t.Fatalf("after ready: %q, want the audio clock's state", l)
	}
	tc.replayed()
	return tc
}

// replayed reads the state replay up to its "state end" and returns it.
func (tc *testClient) replayed() []string {
	tc.t.Helper()
	var got []string
	for {
		l := tc.line()
		switch l {
		case "state begin":
			continue
		case "state end":
			return got
		}
		got = append(got, l)
	}
}

func nextEvent(t *testing.T, s *Server) hal.Event {
	t.Helper()
	select {
	case e := <-s.Events():
		return e
	case <-time.After(deadline):
		t.Fatal("no event")
	}
	return hal.Event{}
}

func TestInputLines(t *testing.T) {
	s, sock, _ := startServer(t)
	s.SetStatus(func() string { return "reg=1:registered phone=idle calls=0" })
	c := dialControl(t, sock)
	key := func(k string) hal.Event { return hal.Event{Kind: hal.KeyPress, Key: k} }
	tests := []struct {
		line   string
		events []hal.Event
		reply  string
	}{
		{"hook off", []hal.Event{{Kind: hal.HookOff}}, ""},
		{"hook on", []hal.Event{{Kind: hal.HookOn}}, ""},
		{"hook on\r", []hal.Event{{Kind: hal.HookOn}}, ""},
		{"key 5", []hal.Event{key("5")}, ""},
		{"key *", []hal.Event{key("*")}, ""},
		{"key #", []hal.Event{key("#")}, ""},
		{"key voldown", []hal.Event{key("voldown")}, ""},
		{"key line4", []hal.Event{key("line4")}, ""},
		{"dial 1#2", []hal.Event{key("1"), key("#"), key("2"), key("send")}, ""},
		{"status", nil, "status reg=1:registered phone=idle calls=0"},
		{"key", nil, "error usage: key K"},
		{"key x", nil, `error bad key "x"`},
		{"key line5", nil, `error bad key "line5"`},
		{"key 55", nil, `error bad key "55"`},
		{"hook up", nil, `error bad hook state "up"`},
		{"hook", nil, "error usage: hook off|on"},
		{"dial", nil, "error usage: dial DIGITS"},
		{"dial 12a", nil, `error dial: bad digit "a"`},
		{"dial " + strings.Repeat("1", 65), nil, "error dial: more than 64 digits"},
		{"status now", nil, "error usage: status"},
		{"ring", nil, `error unknown command "ring"`},
		{"", nil, "error empty line"},
		{"\x1b[A", nil, `error unknown command "\x1b[A"`},
		{strings.Repeat("x", 2000), nil, "error line longer than 1024 bytes"},
	}
	for _, tt := range tests {
		c.send(tt.line)
		for _, want := range tt.events {
			if got := nextEvent(t, s); got != want {
				t.Errorf("%q: event %+v, want %+v", tt.line, got, want)
			}
		}
		if tt.reply != "" {
			c.expect(tt.reply)
		}
	}
	// The phone carried on: still answers, and no stray events came.
	c.send("status")
	c.expect("status reg=1:registered phone=idle calls=0")
	select {
	case e := <-s.Events():
		t.Errorf("stray event %+v", e)
	default:
	}
}

func TestStatusDefault(t *testing.T) {
	_, sock, _ := startServer(t)
	c := dialControl(t, sock)
	c.send("status")
	c.expect("status phone=unknown calls=0")
}

func TestObserverLines(t *testing.T) {
	s, sock, hooks := startServer(t)
	c := dialControl(t, sock)
	waitHook(t, hooks, "control")
	tests := []struct {
		call func()
		want string
	}{
		{func() { s.Reg(1, "registered") }, "reg 1 registered"},
		{func() { s.Reg(2, "failed:403") }, "reg 2 failed:403"},
		{func() { s.Phone("dialtone") }, "phone dialtone"},
		{func() { s.Phone("a b\n") }, "phone a_b_"},
		{func() { s.Call(3, "incoming", "Alice <sip:alice@pbx>") }, "call 3 incoming Alice <sip:alice@pbx>"},
		{func() { s.Call(3, "ended:486", "") }, "call 3 ended:486 "},
		{func() { s.Ring(true, "normal") }, "ring on normal"},
		{func() { s.Ring(false, "normal") }, "ring off"},
		{func() { s.Tone("ringback") }, "tone ringback"},
		{func() { s.LED("mwi", "blink") }, "led mwi blink"},
		{func() { s.Display(0, "12:00  Ext 201") }, "display 0 12:00  Ext 201"},
		{func() { s.Display(1, "two\nlines\r\x00") }, "display 1 two lines  "},
		{func() { s.MWI(1, 2, 5) }, "mwi 1 2/5"},
		{func() { s.Log("héllo\u0085wörld\xff") }, "log héllo wörld\uFFFD"},
	}
	for _, tt := range tests {
		tt.call()
		c.expect(tt.want)
	}
}

func TestNoClientNeverBlocks(t *testing.T) {
	s, sock, hooks := startServer(t)
	for range 3 * lineQueue {
		s.Log("nobody listens")
	}
	// A client that never reads: the queue fills, lines are dropped, the
	// phone carries on.
	c := dial(t, sock)
	waitHook(t, hooks, "control")
	for range 20000 {
		s.Display(0, strings.Repeat("x", 200))
	}
	_ = c
}

func TestClientReplaced(t *testing.T) {
	s, sock, hooks := startServer(t)
	a := dialControl(t, sock)
	waitHook(t, hooks, "control")
	b := dialControl(t, sock)
	waitHook(t, hooks, "control")
	// The old client is closed.
	a.conn.SetReadDeadline(time.Now().Add(deadline))
	if l, err := a.r.ReadString('\n'); err == nil {
		t.Fatalf("old client still gets %q", l)
	}
	s.Phone("idle")
	b.expect("phone idle")
	b.send("hook off")
	if e := nextEvent(t, s); e.Kind != hal.HookOff {
		t.Fatalf("event %+v", e)
	}
}

// fakeClock replaces the codec's crystal: each send on tick is one period.
func fakeClock(s *Server) (chan time.Time, *time.Duration) {
	tick := make(chan time.Time, 256)
	var period time.Duration
	s.codec.newTicker = func(d time.Duration) (<-chan time.Time, func()) {
		period = d
		return tick, func() {}
	}
	return tick, &period
}

func TestAudioBothWays(t *testing.T) {
	s, sock, hooks := startServer(t)
	tick, period := fakeClock(s)
	if err := s.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	if *period != 20*time.Millisecond {
		t.Fatalf("period %v", *period)
	}
	ac := dial(t, sock+".audio")
	waitHook(t, hooks, "audio")

	ear := make([]int16, 160)
	mic := make([]int16, 160)
	for i := range ear {
		ear[i] = int16(i*100 - 8000)
	}
	// Earpiece: one frame out, as s16le.
	tick <- time.Time{}
	if err := s.Exchange(ear, mic); err != nil {
		t.Fatal(err)
	}
	for i, v := range mic {
		if v != 0 {
			t.Fatalf("mic[%d] = %d before the client sent anything, want silence", i, v)
		}
	}
	b := make([]byte, 320)
	ac.SetReadDeadline(time.Now().Add(deadline))
	if _, err := io.ReadFull(ac, b); err != nil {
		t.Fatal(err)
	}
	for i := range ear {
		if got := int16(binary.LittleEndian.Uint16(b[2*i:])); got != ear[i] {
			t.Fatalf("ear sample %d = %d, want %d", i, got, ear[i])
		}
	}

	// Microphone: 1.5 frames sent, split at an odd byte.
	out := make([]byte, 480)
	for i := range 240 {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(1000+i)))
	}
	// With the clock running Exchange reads the socket itself: what
	// the client wrote before is there.
	ac.Write(out[:101])
	ac.Write(out[101:])
	waitParked(t, s)
	tick <- time.Time{}
	if err := s.Exchange(ear, mic); err != nil {
		t.Fatal(err)
	}
	for i, v := range mic {
		if v != int16(1000+i) {
			t.Fatalf("mic[%d] = %d, want %d", i, v, 1000+i)
		}
	}
	tick <- time.Time{}
	s.Exchange(ear, mic)
	for i, v := range mic {
		want := int16(0)
		if i < 80 {
			want = int16(1160 + i)
		}
		if v != want {
			t.Fatalf("second frame mic[%d] = %d, want %d", i, v, want)
		}
	}
}

// waitMicFor waits until the mic ring, read under its lock, satisfies
// done (the reader goroutine is on the other side of a socket); done says
// what it saw, for the failure.
func waitMicFor(t *testing.T, s *Server, done func(c *codec) (bool, string)) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		s.codec.mu.Lock()
		ok, saw := done(&s.codec)
		s.codec.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(end) {
			t.Fatal(saw)
		}
		select {
		case <-s.codec.micHook:
		case <-time.After(time.Until(end)):
		}
	}
}

// waitMic waits until the mic ring holds n samples.
func waitMic(t *testing.T, s *Server, n int) {
	t.Helper()
	waitMicFor(t, s, func(c *codec) (bool, string) {
		return c.fill >= n, fmt.Sprintf("mic ring holds %d samples, want %d", c.fill, n)
	})
}

// waitMicLast waits until the newest sample in the ring is v.
func waitMicLast(t *testing.T, s *Server, v int16) {
	t.Helper()
	waitMicFor(t, s, func(c *codec) (bool, string) {
		last := int16(-1)
		if c.fill > 0 {
			last = c.ring[(c.head+c.fill-1)%len(c.ring)]
		}
		return last == v, fmt.Sprintf("newest mic sample %d, want %d", last, v)
	})
}

func TestMicKeepsAtMost200ms(t *testing.T) {
	s, sock, hooks := startServer(t)
	tick, _ := fakeClock(s)
	if err := s.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	ac := dial(t, sock+".audio")
	waitHook(t, hooks, "audio")
	// One second at once: only the last 200 ms (1600 samples) is kept.
	out := make([]byte, 16000)
	for i := range 8000 {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(i)))
	}
	if _, err := ac.Write(out); err != nil {
		t.Fatal(err)
	}
	waitParked(t, s)
	ear := make([]int16, 160)
	mic := make([]int16, 160)
	tick <- time.Time{}
	s.Exchange(ear, mic)
	if mic[0] != 8000-1600 || mic[159] != 8000-1600+159 {
		t.Fatalf("mic starts at %d ends %d, want %d..%d", mic[0], mic[159], 8000-1600, 8000-1600+159)
	}
}

func TestEarDroppedWithoutClient(t *testing.T) {
	s, _, _ := startServer(t)
	tick, _ := fakeClock(s)
	if err := s.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	ear := make([]int16, 160)
	mic := make([]int16, 160)
	for range 100 {
		tick <- time.Time{}
		if err := s.Exchange(ear, mic); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCodecCloseUnblocksExchange(t *testing.T) {
	s, _, _ := startServer(t)
	fakeClock(s)
	cd := s.Codec()
	if err := cd.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cd.Exchange(make([]int16, 160), make([]int16, 160)) }()
	cd.Close()
	select {
	case err := <-errc:
		if err != ErrClosed {
			t.Fatalf("Exchange after Close: %v", err)
		}
	case <-time.After(deadline):
		t.Fatal("Exchange still blocked after Close")
	}
	// The codec view opens again; Server.Close ends it for good.
	if err := cd.Open(8000, 80); err != nil {
		t.Fatal(err)
	}
	if err := cd.Exchange(make([]int16, 160), make([]int16, 160)); err == nil {
		t.Fatal("wrong frame size accepted")
	}
	s.Close()
	if err := s.Exchange(make([]int16, 80), make([]int16, 80)); err != ErrClosed {
		t.Fatalf("Exchange after Server.Close: %v", err)
	}
	if err := s.Open(8000, 160); err != ErrClosed {
		t.Fatalf("Open after Server.Close: %v", err)
	}
}

func TestOpenBadArgs(t *testing.T) {
	s := New("sim", "v")
	for _, a := range [][2]int{{0, 160}, {8000, 0}, {8000, 9000}} {
		if err := s.Open(a[0], a[1]); err == nil {
			t.Errorf("Open(%d, %d) accepted", a[0], a[1])
		}
	}
	if err := s.Exchange(nil, nil); err != ErrClosed {
		t.Errorf("Exchange before Open: %v", err)
	}
}

func TestExchangeAllocs(t *testing.T) {
	s, sock, hooks := startServer(t)
	tick, _ := fakeClock(s)
	if err := s.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	ac := dial(t, sock+".audio")
	waitHook(t, hooks, "audio")
	// A client that reads and writes without allocating.
	go func() {
		b := make([]byte, 320)
		for {
			if _, err := io.ReadFull(ac, b); err != nil {
				return
			}
			if _, err := ac.Write(b); err != nil {
				return
			}
		}
	}()
	ear := make([]int16, 160)
	mic := make([]int16, 160)
	for range 200 {
		tick <- time.Time{}
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.Exchange(ear, mic); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Exchange: %v allocations per frame, want 0", allocs)
	}
}

func TestAddrs(t *testing.T) {
	tests := []struct{ in, net, ctl, aud string }{
		{"unix:/tmp/p.sock", "unix", "/tmp/p.sock", "/tmp/p.sock.audio"},
		{"tcp:127.0.0.1:7000", "tcp", "127.0.0.1:7000", "127.0.0.1:7001"},
		{"tcp:[::1]:7000", "tcp", "[::1]:7000", "[::1]:7001"},
		{"unix:", "", "", ""},
		{"tcp:127.0.0.1", "", "", ""},
		{"tcp:127.0.0.1:65535", "", "", ""},
		{"/tmp/p.sock", "", "", ""},
	}
	for _, tt := range tests {
		n, c, a, err := Addrs(tt.in)
		if (err != nil) != (tt.net == "") || n != tt.net || c != tt.ctl || a != tt.aud {
			t.Errorf("Addrs(%q) = %q %q %q %v", tt.in, n, c, a, err)
		}
	}
}

func TestListenTCP(t *testing.T) {
	s := New("sim", "v0.1")
	defer s.Close()
	// Port 0 cannot name a pair: hold a pair on loopback for the test.
	port := testtool.Ports(t, 2)
	if err := s.Listen("tcp:127.0.0.1:" + itoa(port)); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc := &testClient{t: t, conn: c, r: bufio.NewReader(c)}
	tc.expect("ready sim v0.1 panel/4")
	a, err := net.Dial("tcp", "127.0.0.1:"+itoa(port+1))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
}

func itoa(i int) string { return strconv.Itoa(i) }

// BenchmarkExchange is one frame both ways with an audio client that reads
// and writes; the frame clock is a closed channel, so every period is due.
func BenchmarkExchange(b *testing.B) {
	s := New("sim", "bench")
	defer s.Close()
	due := make(chan time.Time)
	close(due)
	s.codec.newTicker = func(time.Duration) (<-chan time.Time, func()) { return due, func() {} }
	sock := filepath.Join(b.TempDir(), "p.sock")
	if err := s.Listen("unix:" + sock); err != nil {
		b.Fatal(err)
	}
	if err := s.Open(8000, 160); err != nil {
		b.Fatal(err)
	}
	ac, err := net.Dial("unix", sock+".audio")
	if err != nil {
		b.Fatal(err)
	}
	defer ac.Close()
	go func() {
		buf := make([]byte, 320)
		for {
			if _, err := io.ReadFull(ac, buf); err != nil {
				return
			}
			if _, err := ac.Write(buf); err != nil {
				return
			}
		}
	}()
	ear := make([]int16, 160)
	mic := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Exchange(ear, mic); err != nil {
			b.Fatal(err)
		}
	}
}

// TestClockStopStart: Stop stops the frame clock and says "audio off";
// while it is stopped serveAudio reads (and keeps in the ring) what a
// client still sends; Start says "audio on", drops that stale audio, and
// its first Exchange does not wait for a period; Exchange reads the
// client's socket itself again.
func TestClockStopStart(t *testing.T) {
	s, sock, hooks := startServer(t)
	tick, _ := fakeClock(s)
	cc := dialControl(t, sock)
	waitHook(t, hooks, "control")
	cd := s.Codec().(hal.PCM)
	if err := cd.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	cc.expect("audio on")
	ac := dial(t, sock+".audio")
	waitHook(t, hooks, "audio")
	ear, mic := make([]int16, 160), make([]int16, 160)
	frame := func(v int) []byte {
		b := make([]byte, 320)
		for i := range 160 {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(int16(v+i)))
		}
		return b
	}
	if err := cd.Stop(); err != nil {
		t.Fatal(err)
	}
	cc.expect("audio off")
	if _, err := ac.Write(frame(100)); err != nil {
		t.Fatal(err)
	}
	waitMicLast(t, s, 259) // the reader goroutine took it
	if err := cd.Start(); err != nil {
		t.Fatal(err)
	}
	cc.expect("audio on")
	ac.Write(frame(1000))
	// No tick sent: the first Exchange after Start is due at once.
	done := make(chan error, 1)
	go func() { done <- cd.Exchange(ear, mic) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(deadline):
		t.Fatal("the first Exchange after Start waits for a period")
	}
	b := make([]byte, 320)
	ac.SetReadDeadline(time.Now().Add(deadline))
	if _, err := io.ReadFull(ac, b); err != nil {
		t.Fatalf("earpiece after Start: %v", err)
	}
	// The microphone: from the frame sent after Start on (Exchange reads
	// it once serveAudio has let go of the socket), never the stale one.
	var got []int16
	if mic[0] != 0 {
		got = append(got, mic[0])
	}
	ac.Write(frame(2000))
	waitParked(t, s)
	for range 3 {
		tick <- time.Time{}
		if err := cd.Exchange(ear, mic); err != nil {
			t.Fatal(err)
		}
		if mic[0] != 0 {
			got = append(got, mic[0])
		}
	}
	if len(got) != 2 || got[0] != 1000 || got[1] != 2000 {
		t.Fatalf("mic frames starting %v, want [1000 2000]", got)
	}
	// A stopped clock: Exchange starts it (hal.PCM).
	cd.Stop()
	cc.expect("audio off")
	if err := cd.Exchange(ear, mic); err != nil {
		t.Fatal(err)
	}
	cc.expect("audio on")
	// A client that leaves while the clock runs: Exchange notices, the
	// session ends, the next client is served.
	ac.Close()
	for range 3 {
		tick <- time.Time{}
		cd.Exchange(ear, mic)
	}
	ac2 := dial(t, sock+".audio")
	waitHook(t, hooks, "audio")
	ac2.Write(frame(3000))
	waitParked(t, s)
	tick <- time.Time{}
	if err := cd.Exchange(ear, mic); err != nil || mic[0] != 3000 {
		t.Fatalf("new client: %v, mic[0] %d", err, mic[0])
	}
}

// waitParked waits until serveAudio has handed the socket to Exchange.
func waitParked(t *testing.T, s *Server) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		s.codec.mu.Lock()
		p := s.codec.parked
		s.codec.mu.Unlock()
		if p {
			return
		}
		if time.Now().After(end) {
			t.Fatal("serveAudio did not hand over the socket")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRealClock: the codec's own clock (a timerfd on Linux) paces Exchange
// one period at a time, and Stop ends a wait.
func TestRealClock(t *testing.T) {
	s := New("sim", "v0.1")
	defer s.Close()
	if err := s.Open(8000, 80); err != nil { // 10 ms
		t.Fatal(err)
	}
	ear, mic := make([]int16, 80), make([]int16, 80)
	start := time.Now()
	for range 5 {
		if err := s.Exchange(ear, mic); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 45*time.Millisecond {
		t.Fatalf("5 periods of 10 ms in %v", d)
	}
	s.Stop()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Exchange(ear, mic); err != nil { // due at once
		t.Fatal(err)
	}
	if err := s.Exchange(ear, mic); err != nil {
		t.Fatal(err)
	}
}

// TestReplay: a client that connects while the phone runs is shown what
// the phone shows (panel/3), and again when it asks with "state"; an ended
// call, a log line and a changed row are not replayed as they were.
func TestReplay(t *testing.T) {
	s, sock, hooks := startServer(t)
	s.Reg(1, "registered")
	s.Reg(2, "failed:403")
	s.Phone("connected")
	s.Call(7, "incoming", "Ext 1002")
	s.Call(7, "connected", "Ext 1002")
	s.Call(8, "incoming", "1003")
	s.Call(8, "ended:487", "1003")
	s.Ring(true, "normal")
	s.Ring(false, "")
	s.Tone("none")
	s.LED("line1", "on")
	s.LED("mwi", "blink")
	s.LED("line1", "off")
	s.Display(0, "Ext 1001  line 1 registered")
	s.Display(1, "Calling 1002")
	s.DisplayBytes(1, []byte("Talking to Ext 1002"))
	s.DisplayBytes(3, []byte("09:41 Wed 2 Dec  0:07"))
	s.MWI(1, 2, 5)
	s.Log("not state")
	want := []string{
		"reg 1 registered", "reg 2 failed:403", "phone connected", "call 7 connected Ext 1002",
		"ring off", "tone none", "led line1 off", "led mwi blink",
		"display 0 Ext 1001  line 1 registered", "display 1 Talking to Ext 1002", "display 3 09:41 Wed 2 Dec  0:07",
		"mwi 1 2/5",
	}
	c := dial(t, sock)
	tc := &testClient{t: t, conn: c, r: bufio.NewReader(c)}
	tc.expect("ready sim v0.1 panel/4")
	tc.line() // audio off
	waitHook(t, hooks, "control")
	if got := tc.replayed(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("replay on connect:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Live lines follow the replay; "state" replays the state as it now is.
	s.Call(7, "ended:200", "Ext 1002")
	tc.expect("call 7 ended:200 Ext 1002")
	fmt.Fprintf(c, "state\n")
	got := tc.replayed()
	if strings.Contains(strings.Join(got, "\n"), "call 7") {
		t.Errorf("an ended call replayed: %q", got)
	}
	if len(got) != len(want)-1 {
		t.Errorf("state: %q", got)
	}
}
