package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sync"
	"time"
)

// SessionIdle is how long a session lives after its last use.
const SessionIdle = 30 * time.Minute

// MaxSessions bounds the sessions alive at once; a new login ends the
// oldest.
const MaxSessions = 16

// session is one logged-in browser.
type session struct {
	csrf    string // the token every form of the session carries
	flash   string // what the last action said, shown once (sessions.mu)
	expires time.Time
	made    time.Time
}

// sessions are the live sessions by token. Tokens and CSRF tokens are 32
// random bytes, hex.
type sessions struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*session
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: make(map[string]*session)}
}

func token() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// start makes a session and returns its token.
func (s *sessions) start() (string, *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for t, x := range s.m {
		if !now.Before(x.expires) {
			delete(s.m, t)
		}
	}
	for len(s.m) >= MaxSessions {
		var oldest string
		for t, x := range s.m {
			if oldest == "" || x.made.Before(s.m[oldest].made) {
				oldest = t
			}
		}
		delete(s.m, oldest)
	}
	t := token()
	x := &session{csrf: token(), expires: now.Add(SessionIdle), made: now}
	s.m[t] = x
	return t, x
}

// get returns the live session of token t and renews it; nil: none.
func (s *sessions) get(t string) *session {
	if t == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.m[t]
	if x == nil {
		return nil
	}
	now := s.now()
	if !now.Before(x.expires) {
		delete(s.m, t)
		return nil
	}
	x.expires = now.Add(SessionIdle)
	return x
}

func (s *sessions) end(t string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, t)
}

// setFlash keeps what an action said for the page the browser is sent to
// next (post, redirect, get).
func (s *sessions) setFlash(x *session, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x.flash = msg
}

func (s *sessions) takeFlash(x *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := x.flash
	x.flash = ""
	return m
}

// equal compares two secrets in constant time: their SHA-256 sums, so
// that not even the length of the right one leaks.
func equal(got, want string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
