package panelclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/hal/panel"
)

// share is the client's end of a shared audio file (panel/4): the
// mapping, which close unmaps while no reader or writer holds it.
type share struct {
	mu   sync.RWMutex
	a    *panel.SharedAudio // nil once closed
	tick *time.Ticker       // the period's
	rc   syscall.RawConn    // the audio socket, for its end
	more bool               // the last take filled its buffer: take again at once
}

func (s *share) close() {
	s.mu.Lock()
	if s.a != nil {
		s.a.Close()
		s.a = nil
	}
	s.mu.Unlock()
}

// writeMic puts b into the microphone ring (what does not fit is
// dropped, as the phone drops a socket's beyond its ring); false once the
// file is closed.
func (s *share) writeMic(b []byte) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.a == nil {
		return false
	}
	s.a.WriteMic(b)
	return true
}

var shmAnswer = regexp.MustCompile(`^(audio shm (on|off)|error .*)$`)

// ShareAudio moves the audio stream, both ways, from the socket to a file
// that this process and the phone map (panel/4's "audio shm"): every
// period the client takes what the phone left in the earpiece ring, and
// WriteAudio puts the microphone into its ring. No frame then costs the
// phone or this process a system call or a wake-up, as a codec chip's DMA
// ring costs its driver none, and as baresip's aubridge, inside its
// process, costs it none: it is for measuring the phone (tools/perf), and
// a unix: panel only. A phone older than panel/4, or a hub, answers with
// an error line: ShareAudio fails and the stream stays on the socket.
// What the stream says of the phone's timing is lost to the period, as
// with SetEarpieceBatch; UnshareAudio gives the socket back.
func (c *Client) ShareAudio(ctx context.Context, period time.Duration) error {
	if c.shDir == "" {
		return errors.New("panelclient: shared audio needs a unix: panel")
	}
	if period <= 0 {
		return errors.New("panelclient: shared audio needs a period")
	}
	sc, ok := c.audio.(syscall.Conn)
	if !ok {
		return errors.New("panelclient: shared audio: the audio stream is no socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("panelclient: shared audio: %w", err)
	}
	path, err := panel.CreateShared(c.shDir)
	if err != nil {
		return fmt.Errorf("panelclient: %w", err)
	}
	defer os.Remove(path) // both ends keep their mappings
	a, err := panel.MapShared(path)
	if err != nil {
		return fmt.Errorf("panelclient: %w", err)
	}
	// The phone takes the two connections apart: right after Dial it may
	// not have made this one its audio client yet, and says so.
	var l string
	for try := 0; ; try++ {
		mark := c.Mark()
		if err = c.Send("audio shm " + path); err != nil {
			a.Close()
			return err
		}
		l, err = c.WaitAfter(ctx, mark, shmAnswer)
		if err != nil || !strings.HasPrefix(l, "error audio shm: no audio client") || try == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err == nil && l != "audio shm on" {
		err = fmt.Errorf("the phone says %q", l)
	}
	if err != nil {
		a.Close()
		return fmt.Errorf("panelclient: audio shm: %w", err)
	}
	sh := &share{a: a, tick: time.NewTicker(period), rc: rc}
	if old := c.sh.Swap(sh); old != nil {
		old.close()
	}
	c.audio.SetReadDeadline(time.Now()) // a read waiting on the socket comes back to the file
	return nil
}

// UnshareAudio gives the audio stream its socket back (ShareAudio).
func (c *Client) UnshareAudio(ctx context.Context) error {
	sh := c.sh.Load()
	if sh == nil {
		return nil
	}
	mark := c.Mark()
	if err := c.Send("audio shm off"); err != nil {
		return err
	}
	l, err := c.WaitAfter(ctx, mark, shmAnswer)
	if err == nil && l != "audio shm off" {
		err = fmt.Errorf("the phone says %q", l)
	}
	if err != nil {
		return fmt.Errorf("panelclient: audio shm off: %w", err)
	}
	if c.sh.CompareAndSwap(sh, nil) {
		sh.close() // drainAudio stops its ticker when it sees
	}
	return nil
}

// readShared is drainAudio's read while the stream is shared: what the
// earpiece ring holds (up to len(buf)), else nothing until the next tick
// of the period. Each tick also looks at the socket without waiting: its
// end is the phone's, and what the phone wrote there before it mapped the
// file is the earpiece's too. It returns (0, nil) when the stream leaves
// the file.
func (c *Client) readShared(sh *share, buf []byte) (n int, err error) {
	defer func() {
		if err != nil || n == 0 {
			sh.tick.Stop() // drainAudio leaves the file
		}
	}()
	for {
		if !sh.more {
			<-sh.tick.C
			var rerr error
			if n, rerr, err = readNow(sh.rc, buf); errors.Is(err, os.ErrDeadlineExceeded) {
				c.audio.SetReadDeadline(time.Time{}) // ShareAudio's nudge
				continue
			} else if err != nil {
				return 0, err
			}
			switch {
			case rerr == nil && n == 0:
				return 0, io.EOF
			case rerr == nil:
				return n, nil
			case rerr != syscall.EAGAIN && rerr != syscall.EINTR:
				return 0, rerr
			}
		}
		sh.mu.RLock()
		if sh.a == nil || c.sh.Load() != sh {
			sh.mu.RUnlock()
			return 0, nil
		}
		n = sh.a.ReadEar(buf)
		sh.mu.RUnlock()
		sh.more = n == len(buf)
		if n > 0 {
			return n, nil
		}
	}
}
