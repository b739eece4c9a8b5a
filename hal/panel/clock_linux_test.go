package panel

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRawClockSchedule: the frame clock goes to the poller first only
// when its next expiry is well ahead, and reads first when the loop is
// late, so no expiry is waited out: a late wait finds the one expiry that
// came (not two, a period lost), and an early one finds the next.
func TestRawClockSchedule(t *testing.T) {
	const period = 50 * time.Millisecond
	armed := time.Now()
	f, err := newTimerfd(period)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	k := newRawClock(f, armed, period)
	if k == nil {
		t.Fatal("no raw clock")
	}
	// On time: each wait right after the last one's expiry, a period ahead
	// of the next, goes to the poller first and finds that one expiry.
	for i := range 3 {
		early := k.early
		if err := k.wait(); err != nil {
			t.Fatal(err)
		}
		if k.got != 1 {
			t.Fatalf("wait %d on time: %d expirations, want 1", i, k.got)
		}
		if k.early != early+1 {
			t.Fatalf("wait %d on time read first (a read that finds nothing)", i)
		}
	}
	if !k.next.After(time.Now()) {
		t.Fatalf("next expiry %v is behind", time.Until(k.next))
	}
	// Late: the loop worked past the next expiry (by half a period, a
	// margin for a loaded machine): the wait reads it at once.
	time.Sleep(period + period/2)
	if time.Until(k.next) > period/2 {
		t.Fatal("the schedule is ahead of the timer")
	}
	early := k.early
	if err := k.wait(); err != nil {
		t.Fatal(err)
	}
	if k.early != early {
		t.Fatal("late wait went to the poller first")
	}
	if k.got != 1 {
		t.Fatalf("late wait: %d expirations, want the 1 that came (2: it waited one out)", k.got)
	}
	// A timer closed under the wait ends it.
	f.Close()
	if err := k.wait(); err == nil {
		t.Fatal("wait on a closed timer returned no error")
	}
}

// TestTimerfdRearmsOnRead: the kernel behaviour the frame clock's read
// rests on (DESIGN.md, "Wake-ups"): a periodic timerfd that is never read
// signals its readiness once, not at each expiry, since the kernel re-arms
// it in the read (timerfd_read). So the clock cannot count expirations
// from the time and skip the read.
func TestTimerfdRearmsOnRead(t *testing.T) {
	const period = 10 * time.Millisecond
	f, err := newTimerfd(period)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ep)
	fd := int(f.Fd())
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(fd)}); err != nil {
		t.Fatal(err)
	}
	events := func(read bool) int {
		ev := make([]unix.EpollEvent, 1)
		got := 0
		for waits := 0; waits < 10; {
			n, err := unix.EpollWait(ep, ev, int(5*period/time.Millisecond))
			if err == unix.EINTR {
				// A signal (the runtime preempts with SIGURG) ended
				// the wait with n = -1: wait again, uncounted.
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			waits++
			got += n
			if n > 0 && read {
				unix.Read(fd, make([]byte, 8))
			}
		}
		return got
	}
	if n := events(false); n != 1 {
		t.Errorf("never read: %d readiness events in 10 waits of 5 periods, want 1", n)
	}
	unix.Read(fd, make([]byte, 8))
	if n := events(true); n < 9 {
		t.Errorf("read after each: %d readiness events in 10 waits of 5 periods, want 10 (9 on a loaded machine)", n)
	}
}
