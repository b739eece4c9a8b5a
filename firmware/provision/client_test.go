package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is a small TFTP server on 127.0.0.1 whose misbehaviour the
// test chooses.
type testServer struct {
	t     *testing.T
	files map[string][]byte
	addr  string

	noOptions   bool           // ignore options (plain RFC 1350)
	forceBlk    int            // OACK this blksize instead of the asked one
	extraOpt    bool           // OACK an option nobody asked for
	dropData    map[uint16]int // drop the first n sends of DATA block k
	dropACK     map[uint16]int // ignore the first n ACKs of block k
	dupData     bool           // send every DATA twice
	failAt      uint16         // send ERROR instead of this block
	intruder    bool           // a foreign TID sends DATA 1 before the real one
	retransmit  time.Duration  // server's own retransmission timeout
	mu          *sync.Mutex
	acks        map[uint16]int // ACKs received per block
	dataSent    map[uint16]int // DATA sent per block (copies included)
	requests    []packet       // RRQs received
	intruderGot chan packet    // what the intruder received
	done        chan struct{}
}

func startServer(t *testing.T, s *testServer) *testServer {
	t.Helper()
	s.t = t
	s.mu = new(sync.Mutex)
	s.acks = map[uint16]int{}
	s.dataSent = map[uint16]int{}
	s.intruderGot = make(chan packet, 4)
	s.done = make(chan struct{})
	if s.retransmit == 0 {
		s.retransmit = 40 * time.Millisecond
	}
	l, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.LocalAddr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() { close(s.done); l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := l.ReadFromUDP(buf)
			if err != nil {
				return
			}
			p, err := parsePacket(buf[:n])
			if err != nil || p.op != opRRQ {
				continue
			}
			s.mu.Lock()
			s.requests = append(s.requests, p)
			s.mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(p, from) }()
		}
	}()
	return s
}

func (s *testServer) serve(req packet, client *net.UDPAddr) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		s.t.Error(err)
		return
	}
	defer c.Close()
	go func() { <-s.done; c.Close() }()
	data, ok := s.files[req.file]
	if !ok {
		c.WriteToUDP(appendERROR(nil, errNotFound, "File not found"), client)
		return
	}
	blk := 512
	var oack []option
	if !s.noOptions {
		for _, o := range req.opts {
			switch o.name {
			case "blksize":
				blk, _ = strconv.Atoi(o.value)
				if s.forceBlk != 0 {
					blk = s.forceBlk
				}
				oack = append(oack, option{"blksize", strconv.Itoa(blk)})
			case "tsize":
				oack = append(oack, option{"tsize", strconv.Itoa(len(data))})
			case "timeout":
				oack = append(oack, option{"timeout", o.value})
			}
		}
		if s.extraOpt {
			oack = append(oack, option{"windowsize", "4"})
		}
	}
	// send sends pkt until the ACK of block arrives (retransmitting on the
	// server's own timer only, never on a duplicate ACK).
	send := func(pkt []byte, block uint16, isData bool) bool {
		buf := make([]byte, 2048)
		for try := 0; try < 20; try++ {
			s.mu.Lock()
			drop := false
			if isData {
				if s.dropData[block] > 0 {
					s.dropData[block]--
					drop = true
				}
			}
			s.mu.Unlock()
			if !drop {
				copies := 1
				if isData && s.dupData {
					copies = 2
				}
				for range copies {
					if isData { // counted before sending: the client may finish at once
						s.mu.Lock()
						s.dataSent[block]++
						s.mu.Unlock()
					}
					c.WriteToUDP(pkt, client)
				}
			}
			deadline := time.Now().Add(s.retransmit)
			for {
				c.SetReadDeadline(deadline)
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					break // timeout: retransmit
				}
				p, err := parsePacket(buf[:n])
				if err != nil {
					continue
				}
				if p.op == opERROR {
					return false
				}
				if p.op != opACK {
					continue
				}
				s.mu.Lock()
				s.acks[p.block]++
				ignore := s.dropACK[p.block] > 0
				if ignore {
					s.dropACK[p.block]--
				}
				s.mu.Unlock()
				if p.block == block && !ignore {
					return true
				}
				// duplicate or ignored ACK: keep waiting, do not resend
			}
		}
		return false
	}
	if len(oack) > 0 {
		if !send(appendOACK(nil, oack), 0, false) {
			return
		}
	}
	// The intruder speaks once the transfer ID is settled.
	if s.intruder {
		in, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		defer in.Close()
		in.WriteToUDP(appendDATA(nil, 1, []byte("evil")), client)
		go func() {
			b := make([]byte, 600)
			in.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, _, err := in.ReadFromUDP(b); err == nil {
				p, _ := parsePacket(b[:n])
				s.intruderGot <- p
			}
		}()
	}
	for block := uint16(1); ; block++ {
		off := int(block-1) * blk
		end := min(off+blk, len(data))
		if block == s.failAt {
			c.WriteToUDP(appendERROR(nil, errAccess, "disk on fire"), client)
			return
		}
		if !send(appendDATA(nil, block, data[off:end]), block, true) {
			return
		}
		if end-off < blk {
			return
		}
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestGet(t *testing.T) {
	files := map[string][]byte{
		"empty":    {},
		"small":    []byte("line.1.user = 1001\n"),
		"exact":    pattern(1428 * 3), // ends with an empty block
		"big":      pattern(100_000),
		"exact512": pattern(512 * 2),
	}
	fast := Client{Timeout: 100 * time.Millisecond}
	tests := []struct {
		name   string
		srv    testServer
		client Client
		file   string
		check  func(t *testing.T, s *testServer)
	}{
		{name: "small", file: "small"},
		{name: "empty", file: "empty"},
		{name: "exact multiple", file: "exact"},
		{name: "big", file: "big"},
		{name: "no options", srv: testServer{noOptions: true}, file: "exact512", check: func(t *testing.T, s *testServer) {
			if s.dataSent[3] != 1 || len(s.dataSent) != 3 {
				t.Errorf("want an empty third block in 512-byte mode, sent %v", s.dataSent)
			}
		}},
		{name: "server picks smaller blksize", srv: testServer{forceBlk: 100}, file: "big"},
		{name: "small client blksize", client: Client{BlockSize: 64}, file: "small"},
		{name: "lost data", srv: testServer{dropData: map[uint16]int{2: 1, 5: 2}}, client: fast, file: "big"},
		{name: "lost acks", srv: testServer{dropACK: map[uint16]int{0: 1, 3: 2}}, client: fast, file: "big",
			check: func(t *testing.T, s *testServer) {
				if s.acks[3] < 3 {
					t.Errorf("ACK 3 sent %d times, want at least 3", s.acks[3])
				}
			}},
		{name: "duplicated data, no apprentice", srv: testServer{dupData: true, retransmit: 5 * time.Second}, client: Client{Timeout: 5 * time.Second}, file: "big",
			check: func(t *testing.T, s *testServer) {
				for b, n := range s.dataSent {
					if s.acks[b] > n {
						t.Errorf("block %d: %d ACKs for %d DATA", b, s.acks[b], n)
					}
					if n != 2 && int(b) != len(s.dataSent) { // the last block's second copy may not be out yet
						t.Errorf("block %d sent %d times: the client made the server resend", b, n)
					}
				}
			}},
		{name: "foreign TID", srv: testServer{intruder: true}, file: "small",
			check: func(t *testing.T, s *testServer) {
				select {
				case p := <-s.intruderGot:
					if p.op != opERROR || p.code != errUnknownTID {
						t.Errorf("intruder got %+v, want ERROR 5", p)
					}
				case <-time.After(5 * time.Second):
					t.Error("intruder got nothing")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.srv.files = files
			s := startServer(t, &tt.srv)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got, err := tt.client.Get(ctx, s.addr, tt.file, 1<<20)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got, files[tt.file]) || got == nil {
				t.Fatalf("got %d bytes, want %d", len(got), len(files[tt.file]))
			}
			if tt.check != nil {
				s.mu.Lock()
				tt.check(t, s)
				s.mu.Unlock()
			}
			s.mu.Lock()
			req := s.requests[0]
			s.mu.Unlock()
			if req.mode != "octet" || req.file != tt.file {
				t.Errorf("request %+v", req)
			}
		})
	}
}

func TestGetErrors(t *testing.T) {
	files := map[string][]byte{"big": pattern(10_000)}
	tests := []struct {
		name string
		srv  testServer
		file string
		max  int
		want func(error) bool
		msg  string
	}{
		{name: "not found", file: "nope", max: 1 << 20, want: func(e error) bool { return errors.Is(e, ErrNotFound) }, msg: "server error 1"},
		{name: "tsize too large", file: "big", max: 5000, want: func(e error) bool { return errors.Is(e, ErrTooLarge) }, msg: "10000 bytes"},
		{name: "data too large", srv: testServer{noOptions: true}, file: "big", max: 5000, want: func(e error) bool { return errors.Is(e, ErrTooLarge) }, msg: "more than 5000"},
		{name: "error mid transfer", srv: testServer{failAt: 3}, file: "big", max: 1 << 20, want: func(e error) bool {
			var se *ServerError
			return errors.As(e, &se) && se.Code == errAccess && !errors.Is(e, ErrNotFound)
		}, msg: "disk on fire"},
		{name: "unasked option", srv: testServer{extraOpt: true}, file: "big", max: 1 << 20, want: func(e error) bool { return e != nil }, msg: "windowsize"},
		{name: "blksize above asked", srv: testServer{forceBlk: 9000}, file: "big", max: 1 << 20, want: func(e error) bool { return e != nil }, msg: "blksize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.srv.files = files
			s := startServer(t, &tt.srv)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := (&Client{Timeout: 200 * time.Millisecond}).Get(ctx, s.addr, tt.file, tt.max)
			if err == nil || !tt.want(err) || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "provision: ") {
				t.Fatalf("Get = %d bytes, %v; want error with %q", len(got), err, tt.msg)
			}
		})
	}
}

func TestGetTimesOut(t *testing.T) {
	// A socket that never answers: the client gives up after its retries.
	dead, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	var mu sync.Mutex
	var arrivals []time.Time
	go func() {
		b := make([]byte, 1500)
		for {
			if _, _, err := dead.ReadFromUDP(b); err != nil {
				return
			}
			mu.Lock()
			arrivals = append(arrivals, time.Now())
			mu.Unlock()
		}
	}()
	c := Client{Timeout: 20 * time.Millisecond, Retries: 3}
	start := time.Now()
	_, err = c.Get(context.Background(), dead.LocalAddr().String(), "x", 100)
	elapsed := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "no answer after 3 retransmissions") {
		t.Fatalf("Get = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != 4 {
		t.Fatalf("server saw %d requests, want 4", len(arrivals))
	}
	// The waits double (20, 40, 80, 160 ms) and each ends at a deadline the
	// client set before it sent, so Get cannot return sooner than their sum.
	// (The gaps between arrivals are not bounded below: the goroutine that
	// records them may be scheduled late for one and on time for the next.)
	if min := 300 * time.Millisecond; elapsed < min {
		t.Errorf("Get gave up after %v, want at least %v", elapsed, min)
	}
}

func TestBackoff(t *testing.T) {
	const first = 20 * time.Millisecond
	want := []time.Duration{40, 80, 160, 160, 160}
	wait := first
	for i, w := range want {
		if wait = backoff(wait, first); wait != w*time.Millisecond {
			t.Errorf("wait %d = %v, want %v", i+1, wait, w*time.Millisecond)
		}
	}
}

func TestGetCancel(t *testing.T) {
	dead, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := (&Client{Timeout: time.Hour}).Get(ctx, dead.LocalAddr().String(), "x", 100)
		errc <- err
	}()
	b := make([]byte, 100)
	dead.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := dead.ReadFromUDP(b); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Get = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get did not return after cancel")
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1:69"},
		{"127.0.0.1:6969", "127.0.0.1:6969"},
		{"[::1]:70", "[::1]:70"},
		{"[::1]", "[::1]:69"},
		{"::1", "[::1]:69"},
		{"", "error"},
		{"1.2.3.4:x", "error"},
		{"1.2.3.4:0", "error"},
	} {
		a, err := resolve(context.Background(), tc.in)
		got := "error"
		if err == nil {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("resolve(%q) = %s (%v), want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestFetch(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0x00, 0xAB, 0xcd, 0x01}
	if got := OwnFile(mac); got != "525400abcd01.cfg" {
		t.Fatalf("OwnFile = %q", got)
	}
	tests := []struct {
		name            string
		files           map[string][]byte
		common          string
		wantC, wantO    string
		wantErr, logHas string
	}{
		{name: "both", files: map[string][]byte{"phone.cfg": []byte("c"), "525400abcd01.cfg": []byte("o")}, wantC: "c", wantO: "o", logHas: "got 525400abcd01.cfg"},
		{name: "own missing", files: map[string][]byte{"phone.cfg": []byte("c")}, wantC: "c", logHas: "525400abcd01.cfg is not on"},
		{name: "common missing", files: map[string][]byte{"525400abcd01.cfg": []byte("o")}, wantO: "o", logHas: "phone.cfg is not on"},
		{name: "other common name", common: "site.cfg", files: map[string][]byte{"site.cfg": []byte("s")}, wantC: "s"},
		{name: "none", files: map[string][]byte{}, wantErr: "neither phone.cfg nor 525400abcd01.cfg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, &testServer{files: tt.files})
			var log []string
			logf := func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }
			c, o, err := Fetch(context.Background(), s.addr, tt.common, mac, logf)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrNotFound) {
					t.Fatalf("Fetch err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(c) != tt.wantC || string(o) != tt.wantO || (tt.wantO == "") != (o == nil) {
				t.Errorf("Fetch = %q, %q", c, o)
			}
			if !strings.Contains(strings.Join(log, "\n"), tt.logHas) {
				t.Errorf("log %q lacks %q", log, tt.logHas)
			}
		})
	}
}
