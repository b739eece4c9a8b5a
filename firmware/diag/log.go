package diag

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Severity is a log line's RFC 5424 severity (section 6.2.1).
type Severity uint8

// The severities the phone's lines carry.
const (
	SevError   Severity = 3 // err: something failed
	SevWarning Severity = 4 // warning
	SevInfo    Severity = 6 // informational: the rest
)

func (s Severity) String() string {
	switch s {
	case SevError:
		return "error"
	case SevWarning:
		return "warning"
	}
	return "info"
}

// SeverityOf is the severity of a log message: a message the firmware
// words as a failure starts with "error: " or "fatal: " (err) or
// "warning: " (warning), after an optional package prefix ("sipua: error:
// ..."); the rest are informational. The firmware words its failures this
// way on purpose (the phone's registration failures in plain words,
// "phone: error: line 1: wrong password for 1001 (403)", its troubles as
// warnings, app's syslog errors, phoned's fatal error), so the severity
// is the firmware's choice, not a guess.
func SeverityOf(msg []byte) Severity {
	for range 2 {
		switch {
		case bytes.HasPrefix(msg, []byte("error: ")), bytes.HasPrefix(msg, []byte("fatal: ")):
			return SevError
		case bytes.HasPrefix(msg, []byte("warning: ")):
			return SevWarning
		}
		i := bytes.Index(msg, []byte(": "))
		if i <= 0 || i > 16 || bytes.IndexByte(msg[:i], ' ') >= 0 {
			break
		}
		msg = msg[i+2:] // "sipua: error: ..."
	}
	return SevInfo
}

// LogConfig configures a Log.
type LogConfig struct {
	// Console gets every line as "PREFIX HH:MM:SS.uuuuuu message\n" (the
	// serial console, stderr); nil: none.
	Console io.Writer
	Prefix  string // e.g. "phoned: "
	// RingSize is the recent log's size in bytes (0: DefaultLogRing).
	RingSize int
	// Now is the clock (nil: time.Now); tests set it.
	Now func() time.Time
}

// DefaultLogRing is the recent log's size: some hundreds of lines.
const DefaultLogRing = 64 << 10

// Log is where the phone's log lines go: each Write is one message
// (log.Logger writes one per line, without flags or prefix: phoned sets
// both to zero and lets Log time-stamp), which goes to the console, into
// the recent-log ring with its date and time, and to the syslog server
// when one is set. Write allocates nothing once its line buffer has grown
// to the longest line; it is safe for concurrent use.
type Log struct {
	cfg    LogConfig
	recent *Ring
	syslog atomic.Pointer[Syslog]

	mu  sync.Mutex
	buf []byte // the line being written, reused
}

// NewLog returns a Log over its ring, allocated here.
func NewLog(cfg LogConfig) *Log {
	if cfg.RingSize <= 0 {
		cfg.RingSize = DefaultLogRing
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Log{cfg: cfg, recent: NewRing(cfg.RingSize), buf: make([]byte, 0, 512)}
}

// Recent is the ring of recent lines ("2006-01-02T15:04:05.000000Z07:00
// message\n" each), for the web page (its WriteTo).
func (l *Log) Recent() *Ring { return l.recent }

// SetSyslog sends every line from now on to s as well (nil: no more).
func (l *Log) SetSyslog(s *Syslog) { l.syslog.Store(s) }

// Printf logs one formatted message: the allocating convenience for
// callers without a log.Logger over l.
func (l *Log) Printf(format string, args ...any) {
	_, _ = l.Write(fmt.Appendf(nil, format, args...))
}

// Write logs p (trailing newlines dropped) as one message.
func (l *Log) Write(p []byte) (int, error) {
	n := len(p)
	p = bytes.TrimRight(p, "\r\n")
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.Console != nil {
		b := append(l.buf[:0], l.cfg.Prefix...)
		b = now.AppendFormat(b, "15:04:05.000000")
		b = append(b, ' ')
		b = append(b, p...)
		b = append(b, '\n')
		_, _ = l.cfg.Console.Write(b)
		l.buf = b
	}
	b := now.AppendFormat(l.buf[:0], rfc3339Micro)
	b = append(b, ' ')
	b = append(b, p...)
	b = append(b, '\n')
	_, _ = l.recent.Write(b)
	l.buf = b
	if s := l.syslog.Load(); s != nil {
		s.send(now, SeverityOf(p), p)
	}
	return n, nil
}

// rfc3339Micro is RFC 3339 with microseconds, as RFC 5424's TIMESTAMP
// allows (at most six digits of fractions, section 6.2.3).
const rfc3339Micro = "2006-01-02T15:04:05.000000Z07:00"
