package fleet

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/tools/perf"
)

// resync sends every phone a NOTIFY with Event: check-sync through
// Kamailio (as a PBX asks its phones to re-read their configuration), all
// at once, and waits (Phase at most) until each has fetched its two files
// from tftpd-hpa again and found them unchanged, or said its resync
// failed; tftpd-hpa is measured over that time.
func (f *fleet) resync(ctx context.Context) Resync {
	r := Resync{Load: perf.LoadAvg()}
	fails0 := make([]int64, len(f.phones))
	for i, ph := range f.phones {
		fails0[i] = ph.resyncFails.Load()
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: f.notifyPort})
	if err != nil {
		r.Failed = len(f.phones)
		f.o.Logf("fleet: resync: %v", err)
		return r
	}
	defer conn.Close()
	// A NOTIFY without its 200 is sent again every second, as a SIP
	// client retransmits over UDP (a burst of a thousand overflows
	// Kamailio's socket buffer), at most 8 times.
	var mu sync.Mutex
	ok := map[string]bool{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			msg := string(buf[:n])
			if strings.HasPrefix(msg, "SIP/2.0 200 ") {
				if id := header(msg, "Call-ID"); id != "" {
					mu.Lock()
					ok[id] = true
					mu.Unlock()
				}
			}
		}
	}()
	tA, _ := perf.ReadSample(f.tftp.PID())
	t0 := time.Now()
	admin := f.phones[0].ext // a subscriber: the script knows no one else
	stop, sent := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sent)
		for try := 0; try < 8; try++ {
			if try > 0 {
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
			}
			for i, ph := range f.phones {
				id := fmt.Sprintf("check-sync-%d@fleet", i)
				mu.Lock()
				done := ok[id]
				mu.Unlock()
				if done {
					continue
				}
				if try > 0 {
					mu.Lock()
					r.NotifyResent++
					mu.Unlock()
				}
				msg := fmt.Sprintf("NOTIFY sip:%s@127.0.0.1:%d SIP/2.0\r\n"+
					"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKfleet%d;rport\r\n"+
					"Max-Forwards: 70\r\nFrom: <sip:%s@127.0.0.1>;tag=fleet\r\nTo: <sip:%s@127.0.0.1>\r\n"+
					"Call-ID: %s\r\nCSeq: 1 NOTIFY\r\nEvent: check-sync\r\n"+
					"Subscription-State: terminated\r\nContent-Length: 0\r\n\r\n",
					ph.ext, f.k.Addr.Port, f.notifyPort, i, admin, ph.ext, id)
				if _, err := conn.WriteToUDP([]byte(msg), f.k.Addr); err != nil {
					f.o.Logf("fleet: resync: NOTIFY to %s: %v", ph.ext, err)
				}
			}
		}
	}()
	deadline := t0.Add(f.o.Phase)
	var last time.Time
	for {
		done, failed := 0, 0
		last = time.Time{}
		for i, ph := range f.phones {
			if at := ph.resyncAt.Load(); at > t0.UnixNano() {
				done++
				last = maxTime(last, time.Unix(0, at))
			} else if ph.resyncFails.Load() > fails0[i] {
				failed++
			}
		}
		r.Done = done
		if done+failed >= len(f.phones) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	<-sent
	tB, _ := perf.ReadSample(f.tftp.PID())
	r.TFTPD = usage([]perf.Sample{tA}, []perf.Sample{tB})
	r.Failed = len(f.phones) - r.Done
	shown := 0
	for _, ph := range f.phones {
		if ph.resyncAt.Load() <= t0.UnixNano() && shown < 3 {
			shown++
			f.o.Logf("fleet: %s did not resync; its last lines:\n%s", ph.ext, ph.lastLines())
		}
	}
	if !last.IsZero() {
		r.All = last.Sub(t0)
	}
	mu.Lock()
	r.Notified = len(ok)
	mu.Unlock()
	return r
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// header is the value of a header of a SIP message's text.
func header(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
