package resolve

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// client asks DNS servers one question at a time: over UDP, each server
// in turn, Attempts rounds, each try bounded by Timeout (and by the
// context); over TCP when a UDP answer is truncated (RFC 1035 section
// 4.2.1, RFC 7766).
type client struct {
	servers    []string // host:port; nil = resolv.conf's
	resolvConf string
	timeout    time.Duration
	attempts   int
}

// udpBuf is the size of the UDP read buffer: larger than what queries
// advertise (ednsSize), so that a server ignoring EDNS still fits; a
// datagram filling it is taken as truncated.
const udpBuf = 4096

// exchange asks the question (name, t) and returns the parsed answer.
func (c *client) exchange(ctx context.Context, name string, t dnsmessage.Type) (answer, error) {
	servers := c.servers
	if servers == nil {
		var err error
		if servers, err = readResolvConf(c.resolvConf); err != nil {
			return answer{}, err
		}
	}
	var last error
	for try := 0; try < c.attempts; try++ {
		for _, s := range servers {
			if err := ctx.Err(); err != nil {
				return answer{}, fmt.Errorf("resolve: %s %s: %w", name, typeName(t), err)
			}
			id := uint16(rand.Uint32())
			msg, q, err := buildQuery(id, name, t)
			if err != nil {
				return answer{}, err
			}
			a, err := c.udp(ctx, s, msg, id, q)
			if err == nil && a.truncated {
				a, err = c.tcp(ctx, s, msg, id, q)
				if err == nil && a.truncated {
					err = fmt.Errorf("%w: truncated over TCP", ErrMalformed)
				}
			}
			if err == nil {
				return a, nil
			}
			last = fmt.Errorf("resolve: %s %s from %s: %w", name, typeName(t), s, err)
		}
	}
	return answer{}, last
}

func (c *client) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return d
}

func (c *client) udp(ctx context.Context, server string, msg []byte, id uint16, q dnsmessage.Question) (answer, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", server)
	if err != nil {
		return answer{}, err
	}
	defer conn.Close()
	conn.SetDeadline(c.deadline(ctx))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write(msg); err != nil {
		return answer{}, err
	}
	buf := make([]byte, udpBuf)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return answer{}, ctx.Err()
			}
			return answer{}, err
		}
		if n == len(buf) {
			return answer{truncated: true}, nil
		}
		a, err := parseAnswer(buf[:n], id, q)
		if errors.Is(err, errMismatch) {
			continue // someone else's answer: wait for ours
		}
		return a, err
	}
}

func (c *client) tcp(ctx context.Context, server string, msg []byte, id uint16, q dnsmessage.Question) (answer, error) {
	d := net.Dialer{Deadline: c.deadline(ctx)}
	conn, err := d.DialContext(ctx, "tcp", server)
	if err != nil {
		return answer{}, err
	}
	defer conn.Close()
	conn.SetDeadline(c.deadline(ctx))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	out := make([]byte, 2+len(msg))
	binary.BigEndian.PutUint16(out, uint16(len(msg)))
	copy(out[2:], msg)
	if _, err := conn.Write(out); err != nil {
		return answer{}, err
	}
	var l [2]byte
	if _, err := io.ReadFull(conn, l[:]); err != nil {
		return answer{}, err
	}
	in := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(conn, in); err != nil {
		return answer{}, err
	}
	return parseAnswer(in, id, q)
}

// readResolvConf returns the nameserver lines of a resolv.conf as
// host:port, or 127.0.0.1:53 and [::1]:53 when it names none (what the C
// library does). Search domains and options are not used: SIP URIs name
// fully qualified hosts.
func readResolvConf(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 2 && fs[0] == "nameserver" {
			out = append(out, net.JoinHostPort(fs[1], "53"))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("resolve: %s: %w", path, err)
	}
	if len(out) == 0 {
		out = []string{"127.0.0.1:53", "[::1]:53"}
	}
	return out, nil
}

func typeName(t dnsmessage.Type) string {
	if t == typeNAPTR {
		return "NAPTR"
	}
	return strings.TrimPrefix(t.String(), "Type")
}
