package diag

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Facility is the RFC 5424 facility the phone's messages carry (section
// 6.2.1): user-level, as for any program that is not a system daemon.
const Facility = 1

// MaxDatagram bounds a syslog datagram: RFC 5426 section 3.2 asks
// receivers to take at least 2048 bytes; a longer message (a SIP message
// logged whole with log.sip = on) is cut there. The recent-log ring and
// the SIP trace keep it whole.
const MaxDatagram = 2048

// Message is one RFC 5424 message's header fields and text.
type Message struct {
	Severity Severity
	Time     time.Time
	Hostname string // the phone's name or MAC; "" = NILVALUE
	AppName  string // "phoned"
	ProcID   string // the process ID
	MsgID    string // the message's kind: the log line's package prefix ("sipua"); "" = NILVALUE
	Msg      []byte
}

// AppendRFC5424 appends m as RFC 5424 (section 6) puts it on the wire:
// "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG", with no
// structured data (NILVALUE) and MSG as octets (MSG-ANY, no BOM). Header
// fields hold only printable US-ASCII (others become '_') and are cut to
// their lengths (255, 48, 128, 32); an empty one is the NILVALUE "-".
func AppendRFC5424(b []byte, m Message) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(Facility*8+int(m.Severity)), 10)
	b = append(b, ">1 "...)
	if m.Time.IsZero() {
		b = append(b, '-')
	} else {
		b = m.Time.AppendFormat(b, rfc3339Micro)
	}
	b = append(b, ' ')
	b = appendField(b, m.Hostname, 255)
	b = append(b, ' ')
	b = appendField(b, m.AppName, 48)
	b = append(b, ' ')
	b = appendField(b, m.ProcID, 128)
	b = append(b, ' ')
	b = appendField(b, m.MsgID, 32)
	b = append(b, " -"...)
	if len(m.Msg) > 0 {
		b = append(b, ' ')
		b = append(b, m.Msg...)
	}
	return b
}

func appendField(b []byte, s string, max int) []byte {
	if s == "" {
		return append(b, '-')
	}
	for i := 0; i < len(s) && i < max; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// MsgIDOf is a log message's MSGID: its package prefix ("sipua" of
// "sipua: line 1 registered"), or "" when it has none.
func MsgIDOf(msg []byte) string {
	i := bytes.Index(msg, []byte(": "))
	if i <= 0 || i > 32 || bytes.IndexFunc(msg[:i], func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return ""
	}
	return msgIDs.intern(msg[:i])
}

// msgIDs keeps the few package prefixes seen, so naming one allocates
// nothing after the first time.
var msgIDs internTable

type internTable struct {
	mu sync.Mutex
	m  map[string]string
}

func (t *internTable) intern(b []byte) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.m[string(b)]; ok { // no allocation: a lookup by []byte
		return s
	}
	s := string(b)
	if t.m == nil {
		t.m = map[string]string{}
	}
	if len(t.m) < 64 {
		t.m[s] = s
	}
	return s
}

// SyslogConfig configures a Syslog.
type SyslogConfig struct {
	Addr     string // host:port of the server (log.syslog)
	Hostname string // HOSTNAME: the phone's name or MAC
	AppName  string // APP-NAME; "" = "phoned"
	ProcID   string // PROCID; "" = this process's ID
}

// Syslog sends log lines to a syslog server as RFC 5424 over UDP (RFC
// 5426), one datagram each. It never blocks: a datagram the socket does
// not take at once (its buffer full, an ICMP error reported back) is
// dropped and counted.
type Syslog struct {
	cfg  SyslogConfig
	conn *net.UDPConn
	raw  syscall.RawConn

	mu      sync.Mutex
	buf     []byte
	pending []byte
	werr    error
	writeFn func(fd uintptr) bool // s.write, made once

	sent, dropped atomic.Uint64
}

// DialSyslog resolves cfg.Addr (port 514 by default) and opens the UDP
// socket; nothing is sent yet.
func DialSyslog(cfg SyslogConfig) (*Syslog, error) {
	addr := cfg.Addr
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "514")
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("diag: syslog server %s: %w", cfg.Addr, err)
	}
	c, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return nil, fmt.Errorf("diag: syslog server %s: %w", cfg.Addr, err)
	}
	raw, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("diag: syslog socket: %w", err)
	}
	if cfg.AppName == "" {
		cfg.AppName = "phoned"
	}
	if cfg.ProcID == "" {
		cfg.ProcID = strconv.Itoa(os.Getpid())
	}
	s := &Syslog{cfg: cfg, conn: c, raw: raw, buf: make([]byte, 0, MaxDatagram)}
	s.writeFn = s.write
	return s, nil
}

// Send sends one message of severity sev at t. Safe for concurrent use;
// it allocates nothing.
func (s *Syslog) Send(t time.Time, sev Severity, msg []byte) { s.send(t, sev, msg) }

func (s *Syslog) send(t time.Time, sev Severity, msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := AppendRFC5424(s.buf[:0], Message{Severity: sev, Time: t, Hostname: s.cfg.Hostname,
		AppName: s.cfg.AppName, ProcID: s.cfg.ProcID, MsgID: MsgIDOf(msg), Msg: msg})
	if len(b) > MaxDatagram {
		b = b[:MaxDatagram]
	}
	s.buf = b[:0]
	s.pending, s.werr = b, nil
	if err := s.raw.Write(s.writeFn); err != nil || s.werr != nil {
		s.dropped.Add(1)
		return
	}
	s.sent.Add(1)
}

// write is the one non-blocking send: done whatever the outcome (true),
// so the runtime never waits for the socket to become writable.
func (s *Syslog) write(fd uintptr) bool {
	s.werr = rawSend(fd, s.pending)
	return true
}

// Counts reports the datagrams sent and dropped.
func (s *Syslog) Counts() (sent, dropped uint64) { return s.sent.Load(), s.dropped.Load() }

// Addr is the server's address.
func (s *Syslog) Addr() net.Addr { return s.conn.RemoteAddr() }

// Close closes the socket; later sends are dropped.
func (s *Syslog) Close() error { return s.conn.Close() }
