//go:build linux

package quiet

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Socket takes a socket out of the Go runtime's epoll interest while
// a stream reads it itself, and gives it back. Go registers every socket
// with its netpoller (EPOLL_CTL_ADD at creation, edge-triggered), so each
// datagram that arrives wakes the thread blocked in epoll_wait even when
// no goroutine waits on the socket: with PollReceive that is one wake-up
// per packet for nothing. quiet finds the runtime's epoll descriptor and
// the socket's registration (events and data, in /proc/self/fdinfo),
// modifies it to no events, and restores it verbatim (EPOLL_CTL_MOD) when
// the stream stops. Both happen inside RawConn.Control, which holds the
// descriptor, so a socket closed meanwhile (the runtime deletes its
// registration at close) is left alone. Anything unexpected leaves the
// registration as it was: only the wake-ups come back.
//
// A Socket serves one socket for its life: the registration its first
// Mute finds is kept (the runtime registers a socket once, when it is
// made, and never modifies it), so a later Mute of the same socket (a
// stream stopped and started again: a hold and its resume) reads no
// /proc file and allocates nothing.
type Socket struct {
	epfd  int
	ev    syscall.EpollEvent
	known bool // epfd and ev are the socket's registration, found once
	on    bool

	muteFn, unmuteFn func(fd uintptr) // q.mute and q.unmute, bound once
}

// Mute quiets the socket of rc; false when it could not.
func (q *Socket) Mute(rc syscall.RawConn) bool {
	q.on = false
	if q.muteFn == nil {
		q.muteFn, q.unmuteFn = q.mute, q.unmute
	}
	rc.Control(q.muteFn)
	return q.on
}

func (q *Socket) mute(fd uintptr) {
	if !q.known {
		epfd, events, data, ok := registration(int(fd))
		if !ok {
			return
		}
		q.epfd = epfd
		q.ev = syscall.EpollEvent{Events: events, Fd: int32(uint32(data)), Pad: int32(uint32(data >> 32))}
		q.known = true
	}
	off := q.ev
	off.Events = 1 << 31 // EPOLLET alone: no event (EPOLLERR and EPOLLHUP, which cannot be masked, once)
	if syscall.EpollCtl(q.epfd, syscall.EPOLL_CTL_MOD, int(fd), &off) == nil {
		q.on = true
	}
}

// Unmute gives the runtime its registration back.
func (q *Socket) Unmute(rc syscall.RawConn) {
	if !q.on {
		return
	}
	q.on = false
	rc.Control(q.unmuteFn)
}

func (q *Socket) unmute(fd uintptr) {
	ev := q.ev
	syscall.EpollCtl(q.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
}

// runtimeEpoll caches the epoll descriptor registration last found fd in
// (the runtime's, which lives as long as the process): later lookups read
// only its fdinfo.
var runtimeEpoll atomic.Int64

// registration finds fd in an epoll instance of this process (the Go
// runtime's: a pure Go program has one) and returns its events and data.
func registration(fd int) (epfd int, events uint32, data uint64, ok bool) {
	if ep := int(runtimeEpoll.Load()); ep > 0 {
		if ev, d, ok := lookup(ep, fd); ok {
			return ep, ev, d, true
		}
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, 0, 0, false
	}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || link != "anon_inode:[eventpoll]" {
			continue
		}
		if ev, d, ok := lookup(n, fd); ok {
			runtimeEpoll.Store(int64(n))
			return n, ev, d, true
		}
	}
	return 0, 0, 0, false
}

// lookup reads fd's registration in epoll instance ep from its fdinfo:
// "tfd:       16 events:       19 data: 3fcc000000000001  pos:0 ino:...".
func lookup(ep, fd int) (events uint32, data uint64, ok bool) {
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(ep))
	if err != nil {
		return 0, 0, false
	}
	want := strconv.Itoa(fd)
	for l := range strings.Lines(string(info)) {
		f := strings.Fields(l)
		if len(f) < 6 || f[0] != "tfd:" || f[1] != want || f[2] != "events:" || f[4] != "data:" {
			continue
		}
		ev, err1 := strconv.ParseUint(f[3], 16, 32)
		d, err2 := strconv.ParseUint(f[5], 16, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, false
		}
		return uint32(ev), d, true
	}
	return 0, 0, false
}

// Registered is what the runtime's epoll holds for fd: its events, and
// whether it is registered at all (for tests that check Mute and Unmute).
func Registered(fd int) (events uint32, ok bool) {
	_, events, _, ok = registration(fd)
	return events, ok
}
