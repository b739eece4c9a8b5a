package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is what a server's "file not found" (TFTP error 1) matches
// with errors.Is.
var ErrNotFound = errors.New("provision: file not found")

// ErrTooLarge is returned when a file is larger than the caller allows.
var ErrTooLarge = errors.New("provision: file too large")

// ServerError is an ERROR packet received from the server.
type ServerError struct {
	Code uint16
	Msg  string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("provision: server error %d: %s", e.Code, e.Msg)
}

// Is makes a "file not found" error match ErrNotFound.
func (e *ServerError) Is(target error) bool {
	return target == ErrNotFound && e.Code == errNotFound
}

// Client is a TFTP reader (RFC 1350) that asks for the blksize, tsize and
// timeout options (RFC 2347, 2348, 2349) and falls back to plain RFC 1350
// when the server ignores them. The zero value uses the defaults.
type Client struct {
	// BlockSize is the blksize asked for (8-65464); 0 means 1428, which
	// fits an Ethernet frame with room for tunnels.
	BlockSize int
	// Timeout is the first retransmission timeout; it doubles after each
	// retransmission of the same packet, up to 8 times its value. 0 means
	// 1 s. It is also offered to the server (rounded up to whole seconds).
	Timeout time.Duration
	// Retries is how often one packet is sent again before giving up; 0
	// means 5.
	Retries int
}

const defaultPort = "69"

// Get fetches file from server ("host" or "host:port"; port 69 when
// absent) with the default Client.
func Get(ctx context.Context, server, file string, maxSize int) ([]byte, error) {
	var c Client
	return c.Get(ctx, server, file, maxSize)
}

// Get fetches file from server in octet mode. A file larger than maxSize
// bytes fails with ErrTooLarge (checked against tsize before any data when
// the server announces it); a missing file fails with an error matching
// ErrNotFound.
func (c *Client) Get(ctx context.Context, server, file string, maxSize int) ([]byte, error) {
	var b bytes.Buffer
	if _, err := c.GetTo(ctx, server, file, &b, int64(maxSize)); err != nil {
		return nil, err
	}
	if b.Len() == 0 {
		return []byte{}, nil
	}
	return b.Bytes(), nil
}

// GetTo is Get that streams the file into w, block by block, and returns
// its size: a firmware image is not held in memory. On an error w may hold
// part of the file; the caller throws it away.
//
// Retransmission: only the client's own timeout makes it send its last
// packet again. Each DATA received is acknowledged once: a duplicate of the
// last block means the server did not get that ACK, so it is repeated; a
// stale block is ignored. The client never answers one packet with more
// than one, so it cannot take part in the Sorcerer's Apprentice syndrome
// (RFC 1123 section 4.2.3.1).
func (c *Client) GetTo(ctx context.Context, server, file string, w io.Writer, maxSize int64) (int64, error) {
	if file == "" {
		return 0, errors.New("provision: empty file name")
	}
	raddr, err := resolve(ctx, server)
	if err != nil {
		return 0, err
	}
	network := "udp4"
	if raddr.IP.To4() == nil {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		return 0, fmt.Errorf("provision: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	t := transfer{c: c, ctx: ctx, conn: conn, server: raddr, file: file, max: maxSize, w: w}
	if err := t.run(); err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("provision: %s from %s: %w", file, raddr, ctx.Err())
		}
		return t.n, err
	}
	return t.n, nil
}

func resolve(ctx context.Context, server string) (*net.UDPAddr, error) {
	host, port := server, defaultPort
	if h, p, err := net.SplitHostPort(server); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(server, "[") && strings.HasSuffix(server, "]") {
		host = server[1 : len(server)-1]
	}
	if host == "" {
		return nil, fmt.Errorf("provision: no server in %q", server)
	}
	pn, err := strconv.Atoi(port)
	if err != nil || pn <= 0 || pn > 65535 {
		return nil, fmt.Errorf("provision: bad port in %q", server)
	}
	if ip := net.ParseIP(host); ip != nil {
		return &net.UDPAddr{IP: ip, Port: pn}, nil
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil, fmt.Errorf("provision: resolving %s: %w", host, err)
	}
	return &net.UDPAddr{IP: ips[0], Port: pn}, nil
}

type transfer struct {
	c      *Client
	ctx    context.Context
	conn   *net.UDPConn
	server *net.UDPAddr // where the RRQ goes
	peer   *net.UDPAddr // the server's transfer ID, once known
	file   string
	max    int64
	w      io.Writer // where the blocks go
	n      int64     // bytes written to w

	last    []byte // the last packet sent, for retransmission
	blksize int
}

func (t *transfer) timeout() time.Duration {
	if t.c.Timeout > 0 {
		return t.c.Timeout
	}
	return time.Second
}

func (t *transfer) retries() int {
	if t.c.Retries > 0 {
		return t.c.Retries
	}
	return 5
}

// backoff is the wait after one that went unanswered: doubled, at most
// eight times the first.
func backoff(wait, first time.Duration) time.Duration {
	return min(wait*2, 8*first)
}

func (t *transfer) wantBlksize() int {
	b := t.c.BlockSize
	if b == 0 {
		b = 1428
	}
	return min(max(b, 8), 65464)
}

func (t *transfer) errf(format string, a ...any) error {
	return fmt.Errorf("provision: %s from %s: "+format, append([]any{t.file, t.server}, a...)...)
}

// abort tells the peer why we stop (best effort) and returns err.
func (t *transfer) abort(code uint16, msg string, err error) error {
	if t.peer != nil {
		t.conn.WriteToUDP(appendERROR(nil, code, msg), t.peer)
	}
	return err
}

func (t *transfer) send(b []byte) error {
	t.last = b
	to := t.server
	if t.peer != nil {
		to = t.peer
	}
	if _, err := t.conn.WriteToUDP(b, to); err != nil {
		return t.errf("%w", err)
	}
	return nil
}

func (t *transfer) run() error {
	secs := int((t.timeout() + time.Second - 1) / time.Second)
	opts := []option{
		{"blksize", strconv.Itoa(t.wantBlksize())},
		{"tsize", "0"},
		{"timeout", strconv.Itoa(min(max(secs, 1), 255))},
	}
	if err := t.send(appendRequest(nil, opRRQ, t.file, "octet", opts)); err != nil {
		return err
	}
	t.blksize = 512
	var (
		next    uint16 = 1 // the block expected
		started bool       // the first reply (OACK or DATA 1) has come
		tries   int
		wait    = t.timeout()
		buf     = make([]byte, 65536)
	)
	deadline := time.Now().Add(wait)
	for {
		if err := t.ctx.Err(); err != nil {
			return t.abort(errUndefined, "cancelled", t.errf("%w", err))
		}
		t.conn.SetReadDeadline(deadline)
		n, from, err := t.conn.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				if t.ctx.Err() != nil {
					continue // reported at the top of the loop
				}
				if tries >= t.retries() {
					return t.abort(errUndefined, "timed out", t.errf("no answer after %d retransmissions", tries))
				}
				tries++
				wait = backoff(wait, t.timeout())
				deadline = time.Now().Add(wait)
				if err := t.send(t.last); err != nil {
					return err
				}
				continue
			}
			return t.errf("%w", err)
		}
		if t.peer != nil && !sameAddr(from, t.peer) {
			// RFC 1350 section 4: a packet from another TID gets an error
			// and does not disturb the transfer.
			t.conn.WriteToUDP(appendERROR(nil, errUnknownTID, "unknown transfer ID"), from)
			continue
		}
		if t.peer == nil && !from.IP.Equal(t.server.IP) {
			continue // not from the server we asked
		}
		p, err := parsePacket(buf[:n])
		if err != nil {
			if t.peer == nil {
				t.peer = from
			}
			return t.abort(errIllegalOp, "bad packet", t.errf("%w", err))
		}
		if t.peer == nil {
			t.peer = from
		}
		switch p.op {
		case opERROR:
			return t.errf("%w", &ServerError{Code: p.code, Msg: p.msg})
		case opOACK:
			if started {
				if next == 1 {
					// Our ACK 0 was lost: repeat it, once per copy.
					if err := t.send(appendACK(nil, 0)); err != nil {
						return err
					}
				}
				continue
			}
			if err := t.applyOACK(p.opts); err != nil {
				return t.abort(errOptionsFail, "bad options", err)
			}
			started = true
			tries, wait = 0, t.timeout()
			deadline = time.Now().Add(wait)
			if err := t.send(appendACK(nil, 0)); err != nil {
				return err
			}
		case opDATA:
			if p.block == next-1 && started {
				// Our ACK of this block was lost: repeat it, once per copy.
				if err := t.send(appendACK(nil, p.block)); err != nil {
					return err
				}
				continue
			}
			if p.block != next {
				continue // stale or from the future: ignore
			}
			if len(p.data) > t.blksize {
				return t.abort(errIllegalOp, "block too large", t.errf("block %d has %d bytes, block size is %d", p.block, len(p.data), t.blksize))
			}
			started = true
			if t.n+int64(len(p.data)) > t.max {
				return t.abort(errDiskFull, "file too large", t.errf("%w: more than %d bytes", ErrTooLarge, t.max))
			}
			k, err := t.w.Write(p.data)
			t.n += int64(k)
			if err != nil {
				return t.abort(errDiskFull, "write failed", t.errf("%w", err))
			}
			if err := t.send(appendACK(nil, p.block)); err != nil {
				return err
			}
			if len(p.data) < t.blksize {
				// The last block. Its ACK may be lost; the server then
				// retransmits and gives up, which RFC 1350 accepts.
				return nil
			}
			next++
			tries, wait = 0, t.timeout()
			deadline = time.Now().Add(wait)
		default:
			return t.abort(errIllegalOp, "unexpected packet", t.errf("unexpected opcode %d", p.op))
		}
	}
}

func (t *transfer) applyOACK(opts []option) error {
	for _, o := range opts {
		switch o.name {
		case "blksize":
			n, err := strconv.Atoi(o.value)
			if err != nil || n < 8 || n > t.wantBlksize() {
				return t.errf("server offers blksize %q, asked for %d", o.value, t.wantBlksize())
			}
			t.blksize = n
		case "tsize":
			n, err := strconv.ParseInt(o.value, 10, 64)
			if err != nil || n < 0 {
				return t.errf("server offers tsize %q", o.value)
			}
			if n > t.max {
				return t.errf("%w: %d bytes, at most %d allowed", ErrTooLarge, n, t.max)
			}
			if b, ok := t.w.(*bytes.Buffer); ok {
				b.Grow(int(n))
			}
		case "timeout":
			n, err := strconv.Atoi(o.value)
			if err != nil || n < 1 || n > 255 {
				return t.errf("server offers timeout %q", o.value)
			}
		default:
			return t.errf("server acknowledges option %q that was not asked for", o.name)
		}
	}
	return nil
}

func sameAddr(a, b *net.UDPAddr) bool {
	return a.Port == b.Port && a.IP.Equal(b.IP)
}
