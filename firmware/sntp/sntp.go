package sntp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// PacketLen is the length of an NTP packet without extensions or a MAC.
const PacketLen = 48

// Port is NTP's port, used when a server names none.
const Port = 123

// Mode is the association mode of RFC 5905 section 7.3.
type Mode uint8

const (
	ModeClient    Mode = 3
	ModeServer    Mode = 4
	ModeBroadcast Mode = 5
)

func (m Mode) String() string {
	switch m {
	case ModeClient:
		return "client"
	case ModeServer:
		return "server"
	case ModeBroadcast:
		return "broadcast"
	}
	return "mode " + strconv.Itoa(int(m))
}

// LeapNotSynced is the leap indicator of a server whose clock is not
// synchronised (RFC 5905 figure 9: 3, "alarm condition").
const LeapNotSynced = 3

// Timestamp is an NTP timestamp: seconds since 1900 in the high 32 bits, a
// binary fraction of a second in the low 32.
type Timestamp uint64

// ntpToUnix is the number of seconds from 1900-01-01 to 1970-01-01.
const ntpToUnix = 2208988800

// TimestampOf is t as an NTP timestamp (after 2036 in era 1, whose seconds
// wrap: RFC 4330 section 3).
func TimestampOf(t time.Time) Timestamp {
	secs := uint64(t.Unix() + ntpToUnix)
	frac := (uint64(t.Nanosecond()) << 32) / 1e9
	return Timestamp(secs<<32 | frac)
}

// Time is the time n stands for. Seconds with the high bit clear are taken
// as era 1, from 2036-02-07 06:28:16 UTC on (RFC 4330 section 3), so the
// years 1968 to 2104 read right.
func (n Timestamp) Time() time.Time {
	secs := int64(n >> 32)
	if secs&0x80000000 == 0 {
		secs += 1 << 32
	}
	nsec := (int64(n&0xffffffff) * 1e9) >> 32
	return time.Unix(secs-ntpToUnix, nsec)
}

// Packet is an NTP packet's header (RFC 5905 section 7.3).
type Packet struct {
	Leap, Version uint8
	Mode          Mode
	Stratum       uint8
	Poll          int8
	Precision     int8
	RootDelay     uint32 // NTP short format: 16.16 seconds
	RootDisp      uint32
	RefID         [4]byte
	Reference     Timestamp
	Origin        Timestamp
	Receive       Timestamp
	Transmit      Timestamp
}

// ErrShort is returned by Parse for fewer than PacketLen bytes.
var ErrShort = errors.New("sntp: packet shorter than 48 bytes")

// Parse reads b's header. Extension fields and a MAC after it are ignored.
func Parse(b []byte) (Packet, error) {
	if len(b) < PacketLen {
		return Packet{}, ErrShort
	}
	p := Packet{
		Leap:      b[0] >> 6,
		Version:   b[0] >> 3 & 7,
		Mode:      Mode(b[0] & 7),
		Stratum:   b[1],
		Poll:      int8(b[2]),
		Precision: int8(b[3]),
		RootDelay: binary.BigEndian.Uint32(b[4:]),
		RootDisp:  binary.BigEndian.Uint32(b[8:]),
		Reference: Timestamp(binary.BigEndian.Uint64(b[16:])),
		Origin:    Timestamp(binary.BigEndian.Uint64(b[24:])),
		Receive:   Timestamp(binary.BigEndian.Uint64(b[32:])),
		Transmit:  Timestamp(binary.BigEndian.Uint64(b[40:])),
	}
	copy(p.RefID[:], b[12:16])
	return p, nil
}

// AppendTo appends p as 48 bytes to b.
func (p Packet) AppendTo(b []byte) []byte {
	b = append(b, p.Leap<<6|(p.Version&7)<<3|uint8(p.Mode)&7, p.Stratum, uint8(p.Poll), uint8(p.Precision))
	b = binary.BigEndian.AppendUint32(b, p.RootDelay)
	b = binary.BigEndian.AppendUint32(b, p.RootDisp)
	b = append(b, p.RefID[:]...)
	for _, t := range [...]Timestamp{p.Reference, p.Origin, p.Receive, p.Transmit} {
		b = binary.BigEndian.AppendUint64(b, uint64(t))
	}
	return b
}

// KissError is a kiss-o'-death answer (stratum 0, RFC 5905 section 7.4):
// DENY and RSTR ask the client to stop asking that server, RATE to ask
// less often.
type KissError struct {
	Server string
	Code   string
}

func (e *KissError) Error() string {
	return fmt.Sprintf("sntp: %s sent kiss-o'-death %q", e.Server, e.Code)
}

// Result is one answered query.
type Result struct {
	Server  string        // host:port asked
	Offset  time.Duration // add to the local clock to get the server's
	Delay   time.Duration // the round trip, less the server's own time
	Stratum uint8
	Time    time.Time // the local clock corrected, when the answer came
}

// Check takes reply as the answer to a request whose transmit timestamp
// was sent, sent at t1 and answered at t4 by the local clock, and returns
// the offset and delay (RFC 5905 section 8), or why it is not taken (RFC
// 4330 section 5).
func Check(reply Packet, sent Timestamp, t1, t4 time.Time) (offset, delay time.Duration, err error) {
	switch {
	case reply.Mode != ModeServer:
		return 0, 0, fmt.Errorf("sntp: answer in %s, not server, mode", reply.Mode)
	case reply.Version < 3 || reply.Version > 4:
		return 0, 0, fmt.Errorf("sntp: answer of version %d", reply.Version)
	case reply.Origin != sent:
		return 0, 0, errors.New("sntp: answer's origin time is not the request's (an old or forged answer)")
	case reply.Stratum == 0:
		return 0, 0, &KissError{Code: kissCode(reply.RefID)}
	case reply.Stratum > 15:
		return 0, 0, fmt.Errorf("sntp: server of stratum %d", reply.Stratum)
	case reply.Leap == LeapNotSynced:
		return 0, 0, errors.New("sntp: server's clock is not synchronised")
	case reply.Transmit == 0:
		return 0, 0, errors.New("sntp: answer without a transmit time")
	}
	t2, t3 := reply.Receive.Time(), reply.Transmit.Time()
	offset = (t2.Sub(t1) + t3.Sub(t4)) / 2
	delay = t4.Sub(t1) - t3.Sub(t2)
	if delay < 0 {
		delay = 0 // the server's clock steps or rounds finer than our round trip
	}
	return offset, delay, nil
}

// kissCode is a kiss-o'-death's four ASCII letters, unprintables as '?'.
func kissCode(id [4]byte) string {
	b := id
	for i, c := range b {
		if c < ' ' || c > '~' {
			b[i] = '?'
		}
	}
	return string(b[:])
}

// HostPort is server with NTP's port when it names none.
func HostPort(server string) string {
	if _, _, err := net.SplitHostPort(server); err == nil {
		return server
	}
	return net.JoinHostPort(server, strconv.Itoa(Port))
}

// Timeout is how long Query waits for an answer when ctx has no earlier
// deadline.
const Timeout = 3 * time.Second

// Query asks server ("host" or "host:port") for the time once, with the
// local clock now (time.Now when nil).
func Query(ctx context.Context, server string, now func() time.Time) (Result, error) {
	if now == nil {
		now = time.Now
	}
	addr := HostPort(server)
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return Result{}, fmt.Errorf("sntp: %s: %w", addr, err)
	}
	defer c.Close()
	deadline := time.Now().Add(Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()

	// The transmit time is the request's nonce: its low fraction bits are
	// random (RFC 5905 section 9.1 suggests as much), so an answer that
	// echoes it came from whoever got this request.
	t1 := now()
	start := time.Now() // monotonic: the round trip is timed on it
	var r [2]byte
	rand.Read(r[:])
	sent := TimestampOf(t1)&^0xffff | Timestamp(binary.BigEndian.Uint16(r[:]))
	req := Packet{Version: 4, Mode: ModeClient, Transmit: sent}.AppendTo(make([]byte, 0, PacketLen))
	if _, err := c.Write(req); err != nil {
		return Result{}, fmt.Errorf("sntp: %s: %w", addr, err)
	}
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return Result{}, ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return Result{}, fmt.Errorf("sntp: %s does not answer", addr)
			}
			return Result{}, fmt.Errorf("sntp: %s: %w", addr, err)
		}
		t4 := t1.Add(time.Since(start))
		reply, err := Parse(buf[:n])
		if err != nil || reply.Origin != sent {
			continue // not the answer to this request: keep waiting
		}
		offset, delay, err := Check(reply, sent, t1, t4)
		if err != nil {
			var k *KissError
			if errors.As(err, &k) {
				k.Server = addr
			}
			return Result{}, err
		}
		return Result{Server: addr, Offset: offset, Delay: delay, Stratum: reply.Stratum, Time: t4.Add(offset)}, nil
	}
}
