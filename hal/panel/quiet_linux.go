//go:build linux

package panel

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// quiet takes the audio client's socket out of the Go runtime's epoll
// interest while Exchange reads it itself, and gives it back when the clock
// stops (a copy of audio's, which may not import x/sys). Go registers every socket
// with its netpoller (EPOLL_CTL_ADD at creation, edge-triggered), so each
// datagram that arrives wakes the thread blocked in epoll_wait even when
// no goroutine waits on the socket: with PollReceive that is one wake-up
// per packet for nothing. quiet finds the runtime's epoll descriptor and
// the socket's registration (events and data, in /proc/self/fdinfo),
// modifies it to no events, and restores it verbatim (EPOLL_CTL_MOD) when
// the clock stops. Both happen inside RawConn.Control, which holds the
// descriptor, so a socket closed meanwhile (the runtime deletes its
// registration at close) is left alone. Anything unexpected leaves the
// registration as it was: only the wake-ups come back.
type quiet struct {
	epfd int
	ev   unix.EpollEvent
	on   bool
}

// mute quiets the socket of rc; false when it could not.
func (q *quiet) mute(rc syscall.RawConn) bool {
	q.on = false
	rc.Control(func(fd uintptr) {
		epfd, events, data, ok := registration(int(fd))
		if !ok {
			return
		}
		q.epfd = epfd
		q.ev = unix.EpollEvent{Events: events, Fd: int32(uint32(data)), Pad: int32(uint32(data >> 32))}
		off := q.ev
		off.Events = 1 << 31 // EPOLLET alone: no event (EPOLLERR and EPOLLHUP, which cannot be masked, once)
		if unix.EpollCtl(epfd, unix.EPOLL_CTL_MOD, int(fd), &off) == nil {
			q.on = true
		}
	})
	return q.on
}

// unmute gives the runtime its registration back.
func (q *quiet) unmute(rc syscall.RawConn) {
	if !q.on {
		return
	}
	q.on = false
	rc.Control(func(fd uintptr) {
		ev := q.ev
		unix.EpollCtl(q.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev)
	})
}

// registration finds fd in an epoll instance of this process (the Go
// runtime's: a pure Go program has one) and returns its events and data.
func registration(fd int) (epfd int, events uint32, data uint64, ok bool) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, 0, 0, false
	}
	want := strconv.Itoa(fd)
	for _, e := range ents {
		link, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || link != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		// "tfd:       16 events:       19 data: 3fcc000000000001  pos:0 ino:..."
		for _, l := range strings.Split(string(info), "\n") {
			f := strings.Fields(l)
			if len(f) < 6 || f[0] != "tfd:" || f[1] != want || f[2] != "events:" || f[4] != "data:" {
				continue
			}
			ev, err1 := strconv.ParseUint(f[3], 16, 32)
			d, err2 := strconv.ParseUint(f[5], 16, 64)
			n, err3 := strconv.Atoi(e.Name())
			if err1 != nil || err2 != nil || err3 != nil {
				return 0, 0, 0, false
			}
			return n, uint32(ev), d, true
		}
	}
	return 0, 0, 0, false
}
