package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/firmware/app"
)

// phone is one sim phone of the fleet: the whole firmware (app.Run on the
// sim board), in this process, with its own address, sockets and panel.
type phone struct {
	ext, password string
	mac           net.HardwareAddr
	ip            string // its own loopback address, 127.77.x.y
	panel         string // unix:PATH

	cut  chan struct{} // closed: the power is cut
	done chan struct{} // closed when app.Run has returned

	// What the phone's log said, counted as it says it (logf).
	regAt       atomic.Int64 // unix ns of the last "registered"; 0: not since boot
	regFailures atomic.Int64 // "line 1 failed:CODE"
	regRetries  atomic.Int64 // "registering again in" (a new attempt after a failure)
	provRetries atomic.Int64 // "provisioning: ...; retrying" at boot
	resyncAt    atomic.Int64 // unix ns of the last resync that found the files unchanged
	resyncFails atomic.Int64 // "provision: resync: ...; keeping the current configuration"
	runErr      atomic.Value // error: app.Run failed

	trace func(format string, args ...any) // nil: the log is not traced

	mu   sync.Mutex
	tail []string // the last log lines, for a failure's report
}

// errRestart is what a fleet phone's Restart returns: Run starts it again.
var errRestart = errors.New("fleet: restart for a new configuration")

// boot starts the firmware in a goroutine; tftp is the TFTP server.
func (ph *phone) boot(ctx context.Context, tftp string) {
	sim, _ := boards.ByName("sim")
	ph.cut, ph.done = make(chan struct{}), make(chan struct{})
	ph.regAt.Store(0)
	o := app.Options{
		Board: sim, Version: "fleet", Panel: ph.panel, BindIP: ph.ip, Logf: ph.logf,
		TFTP: tftp, MAC: ph.mac, PowerCut: ph.cut,
		Restart: func() error { return errRestart }, SharedProcess: true,
	}
	go func() {
		defer close(ph.done)
		for {
			o.Started = time.Now()
			err := app.Run(ctx, o)
			if errors.Is(err, errRestart) {
				continue
			}
			if err != nil && ctx.Err() == nil {
				ph.runErr.Store(err)
			}
			return
		}
	}()
}

// powerCut stops the phone at once and waits until it has.
func (ph *phone) powerCut() {
	close(ph.cut)
	<-ph.done
}

const tailLines = 20

func (ph *phone) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	now := time.Now().UnixNano()
	if ph.trace != nil {
		ph.trace("%s| %s", ph.ext, line)
	}
	switch {
	case strings.HasPrefix(line, "sipua: line 1 registered"):
		ph.regAt.Store(now)
	case strings.HasPrefix(line, "sipua: line 1 failed:"):
		ph.regFailures.Add(1)
	case strings.Contains(line, ": registering again in "):
		ph.regRetries.Add(1)
	case strings.Contains(line, "provisioning: ") && strings.Contains(line, "; retrying in "):
		ph.provRetries.Add(1)
	case strings.Contains(line, "provision: configuration from ") && strings.HasSuffix(line, " unchanged"):
		ph.resyncAt.Store(now)
	case strings.Contains(line, "provision: resync: "):
		ph.resyncFails.Add(1)
	}
	ph.mu.Lock()
	if len(ph.tail) == tailLines {
		copy(ph.tail, ph.tail[1:])
		ph.tail = ph.tail[:tailLines-1]
	}
	ph.tail = append(ph.tail, line)
	ph.mu.Unlock()
}

// lastLines is the phone's last log lines, one string.
func (ph *phone) lastLines() string {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	return "    " + strings.Join(ph.tail, "\n    ")
}
