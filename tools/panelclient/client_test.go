package panelclient

import (
	"context"
	"math"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/hal/panel"
	"github.com/deskphone/deskphone/internal/quiet"
)

const deadline = 10 * time.Second

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), deadline)
	t.Cleanup(cancel)
	return c
}

func TestDialRetriesUntilReady(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "p.sock")
	s := panel.New("sim", "v1")
	defer s.Close()
	type res struct {
		c   *Client
		err error
	}
	done := make(chan res, 1)
	go func() {
		c, err := Dial(ctx(t), "unix:"+sock)
		done <- res{c, err}
	}()
	// The phone comes up after the client started dialling.
	time.AfterFunc(300*time.Millisecond, func() { s.Listen("unix:" + sock) })
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.c.Close()
	if r.c.Ready() != "ready sim v1 panel/4" {
		t.Fatalf("ready %q", r.c.Ready())
	}
}

func TestDialGivesUp(t *testing.T) {
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Dial(c, "unix:"+filepath.Join(t.TempDir(), "none.sock")); err == nil {
		t.Fatal("Dial to nothing succeeded")
	}
	if _, err := Dial(c, "bogus"); err == nil {
		t.Fatal("Dial to a bad address succeeded")
	}
}

func start(t *testing.T) (*panel.Server, *Client) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "p.sock")
	s := panel.New("sim", "v1")
	t.Cleanup(func() { s.Close() })
	if err := s.Listen("unix:" + sock); err != nil {
		t.Fatal(err)
	}
	c, err := Dial(ctx(t), "unix:"+sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

func TestLinesAndWait(t *testing.T) {
	s, c := start(t)
	s.SetStatus(func() string { return "reg=1:registered phone=idle calls=0" })
	// Status also proves the server has taken this client.
	st, err := c.Status(ctx(t))
	if err != nil || st != "reg=1:registered phone=idle calls=0" {
		t.Fatalf("Status = %q, %v", st, err)
	}
	s.Phone("dialtone")
	s.Tone("dial")
	// Both lines came before this Wait: found from the history.
	if _, err := c.Wait(ctx(t), regexp.MustCompile(`^tone dial$`)); err != nil {
		t.Fatal(err)
	}
	l, err := c.Wait(ctx(t), regexp.MustCompile(`^phone `))
	if err != nil || l != "phone dialtone" {
		t.Fatalf("Wait = %q, %v", l, err)
	}
	m := c.Mark()
	s.Phone("dialing")
	l, err = c.WaitAfter(ctx(t), m, regexp.MustCompile(`^phone `))
	if err != nil || l != "phone dialing" {
		t.Fatalf("WaitAfter = %q, %v", l, err)
	}
	if got := strings.Join(c.Lines(m), "|"); got != "phone dialing" {
		t.Fatalf("Lines(mark) = %q", got)
	}
	// Nothing new after the mark: Wait ends with ctx.
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.WaitAfter(short, c.Mark(), regexp.MustCompile(`^phone `)); err == nil {
		t.Fatal("WaitAfter found a line that never came")
	}
	if err := c.Send("key bogus"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitAfter(ctx(t), m, regexp.MustCompile(`^error bad key`)); err != nil {
		t.Fatal(err)
	}
	if err := c.Send("two\nlines"); err == nil {
		t.Fatal("Send took a newline")
	}
}

func TestSendReachesPhone(t *testing.T) {
	s, c := start(t)
	if err := c.Send("dial 20#"); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for len(keys) < 4 {
		select {
		case e := <-s.Events():
			if e.Kind != hal.KeyPress {
				t.Fatalf("event %+v", e)
			}
			keys = append(keys, e.Key)
		case <-time.After(deadline):
			t.Fatalf("keys so far %v", keys)
		}
	}
	if got := strings.Join(keys, " "); got != "2 0 # send" {
		t.Fatalf("keys %q", got)
	}
}

func TestWaitEndsWhenPhoneGoes(t *testing.T) {
	s, c := start(t)
	s.Close()
	if _, err := c.Wait(ctx(t), regexp.MustCompile(`^never`)); err == nil {
		t.Fatal("Wait on a closed stream returned no error")
	}
}

// TestAudio runs the phone's audio loop on the panel's real frame clock
// (this is the codec of the sim board): a tone played into the microphone
// reaches the phone, and the earpiece stream is recorded.
func TestAudio(t *testing.T) {
	s, c := start(t)
	if err := s.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	heard := make(chan struct{})
	go func() {
		ear := make([]int16, 160)
		mic := make([]int16, 160)
		for i := range ear {
			ear[i] = 1234
		}
		once := false
		for s.Exchange(ear, mic) == nil {
			if !once && slices.ContainsFunc(mic, func(v int16) bool { return v != 0 }) {
				once = true
				close(heard)
			}
		}
	}()
	pctx, stop := context.WithCancel(ctx(t))
	defer stop()
	go c.PlayTone(pctx, 1000, 8000)
	select {
	case <-heard:
	case <-time.After(deadline):
		t.Fatal("the phone never heard the tone")
	}
	stop()
	rec, err := c.Record(200 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Real time: 200 ms is about 1600 samples; allow for scheduling.
	if len(rec) < 400 {
		t.Fatalf("recorded %d samples in 200 ms", len(rec))
	}
	for i, v := range rec {
		if v != 1234 {
			t.Fatalf("ear sample %d = %d, want 1234", i, v)
		}
	}
}

// TestSetRate: after SetRate(WideRate) the phone's 16 kHz codec (the
// panel's real clock) streams a 6 kHz tone to the client whole, and a
// bad rate is refused by the phone.
// TestEarpieceBatch: with SetEarpieceBatch the earpiece stream comes in
// batches, whole and in order, while the audio socket is out of the
// runtime's epoll interest (Linux); SetEarpieceBatch(0) gives it back.
func TestEarpieceBatch(t *testing.T) {
	s, c := start(t)
	if err := s.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	go func() {
		ear := make([]int16, 160)
		mic := make([]int16, 160)
		for k := int16(1); s.Exchange(ear, mic) == nil; k++ {
			for i := range ear {
				ear[i] = k // the frame's number, in each of its samples
			}
		}
	}()
	fd := -1
	sc, _ := c.audio.(syscall.Conn)
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(f uintptr) { fd = int(f) })
	registered := func() uint32 {
		ev, ok := quiet.Registered(fd)
		if !ok {
			t.Fatalf("socket %d not in an epoll instance", fd)
		}
		return ev
	}
	before := registered()
	c.SetEarpieceBatch(60 * time.Millisecond)
	buf := make([]int16, 4096)
	var got []int16
	biggest := 0
	for len(got) < 20*160 {
		n, err := c.ReadAudio(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
		if len(got) > 10*160 { // batching has begun: the first read came before it
			biggest = max(biggest, n)
		}
	}
	if runtime.GOOS == "linux" {
		if ev := registered(); ev&^0x18 != 1<<31 { // EPOLLERR and EPOLLHUP are always on
			t.Errorf("batched: the socket's epoll events are %#x, want EPOLLET alone (was %#x)", ev, before)
		}
	}
	if biggest <= 160 {
		t.Errorf("batched every 60 ms, the largest read was %d samples, want more than a frame", biggest)
	}
	// Whole and in order: each frame's number is one more than the last.
	first := slices.IndexFunc(got, func(v int16) bool { return v != 0 }) // after the first frame's silence
	if first < 0 {
		t.Fatal("no numbered frame came")
	}
	for i := first + 1; i < len(got); i++ {
		if d := got[i] - got[i-1]; d != 0 && d != 1 {
			t.Fatalf("sample %d: frame %d after %d", i, got[i], got[i-1])
		}
	}
	c.SetEarpieceBatch(0)
	for range 10 { // the change takes effect after a read
		if _, err := c.ReadAudio(buf); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS == "linux" {
		if ev := registered(); ev != before {
			t.Errorf("unbatched: events %#x, want %#x again", ev, before)
		}
	}
}

func TestSetRate(t *testing.T) {
	s, c := start(t)
	if err := c.SetRate(ctx(t), 44100); err == nil {
		t.Fatal("44100 accepted")
	}
	if c.Rate() != Rate {
		t.Fatalf("rate %d after a refusal", c.Rate())
	}
	if err := c.SetRate(ctx(t), WideRate); err != nil {
		t.Fatal(err)
	}
	codec := s.Codec()
	if err := codec.Open(16000, 320); err != nil {
		t.Fatal(err)
	}
	defer codec.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ear, mic := make([]int16, 320), make([]int16, 320)
		var ph float64
		for {
			select {
			case <-stop:
				return
			default:
			}
			for i := range ear {
				ear[i] = int16(8000 * math.Sin(ph))
				ph += 2 * math.Pi * 6000 / 16000
			}
			if codec.Exchange(ear, mic) != nil {
				return
			}
		}
	}()
	got, err := c.Record(500 * time.Millisecond)
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	// 0.5 s at 16000 (a little less on a loaded machine).
	if len(got) < 4000 {
		t.Fatalf("recorded %d samples in 0.5 s", len(got))
	}
	if l := audio.ToneLevel(got, 6000, WideRate); l < 0.03 {
		t.Fatalf("6 kHz at %.4f, want about 0.06", l)
	}
}

// TestShareAudio: after ShareAudio the earpiece comes through the shared
// file, whole and in order, and WriteAudio's microphone reaches the
// phone's Exchange the same way; the phone's socket carries nothing
// meanwhile. UnshareAudio gives the socket back, and the stream goes on.
func TestShareAudio(t *testing.T) {
	s, c := start(t)
	if err := s.Open(8000, 160); err != nil {
		t.Fatal(err)
	}
	var micFrames atomic.Int64
	go func() {
		ear := make([]int16, 160)
		mic := make([]int16, 160)
		for k := int16(1); s.Exchange(ear, mic) == nil; k++ {
			for i := range ear {
				ear[i] = k
			}
			if mic[0] == 777 && mic[159] == 777 {
				micFrames.Add(1)
			}
		}
	}()
	if err := c.ShareAudio(ctx(t), 40*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// The microphone: a frame of 777s every 20 ms.
	playCtx, stop := context.WithCancel(ctx(t))
	defer stop()
	go c.Play(playCtx, func(f []int16) bool {
		for i := range f {
			f[i] = 777
		}
		return true
	})
	c.FlushAudio()
	buf := make([]int16, 4096)
	var got []int16
	for len(got) < 30*160 {
		n, err := c.ReadAudio(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	first := slices.IndexFunc(got, func(v int16) bool { return v != 0 })
	if first < 0 {
		t.Fatal("no numbered frame came")
	}
	for i := first + 1; i < len(got); i++ {
		if d := got[i] - got[i-1]; d != 0 && d != 1 {
			t.Fatalf("shared, sample %d: frame %d after %d", i, got[i], got[i-1])
		}
	}
	if n := micFrames.Load(); n < 10 {
		t.Fatalf("the phone took %d microphone frames through the file in 0.6 s", n)
	}
	// The phone wrote nothing on the socket: its receive queue is empty
	// (the client looks at it only every period).
	sc, _ := c.audio.(syscall.Conn)
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	queued := -1
	rc.Control(func(fd uintptr) { queued, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
	if queued != 0 {
		t.Fatalf("%d bytes on the socket while the file is shared", queued)
	}
	if err := c.UnshareAudio(ctx(t)); err != nil {
		t.Fatal(err)
	}
	c.FlushAudio()
	got = got[:0]
	for len(got) < 10*160 {
		n, err := c.ReadAudio(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	for i := 1; i < len(got); i++ {
		if d := got[i] - got[i-1]; d != 0 && d != 1 {
			t.Fatalf("unshared, sample %d: frame %d after %d", i, got[i], got[i-1])
		}
	}
}
