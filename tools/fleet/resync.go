package fleet

import (
	"context"
	"fmt"
	"net"
	"strings"
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
	conn.SetReadDeadline(time.Now().Add(f.o.Phase + time.Second))
	answered := make(chan int, 1)
	go func() {
		ok := map[string]bool{}
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				break
			}
			msg := string(buf[:n])
			if strings.HasPrefix(msg, "SIP/2.0 200 ") {
				if id := header(msg, "Call-ID"); id != "" {
					ok[id] = true
				}
			}
		}
		answered <- len(ok)
	}()
	tA, _ := perf.ReadSample(f.tftp.PID())
	t0 := time.Now()
	admin := f.phones[0].ext // a subscriber: the script knows no one else
	for i, ph := range f.phones {
		msg := fmt.Sprintf("NOTIFY sip:%s@127.0.0.1:%d SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKfleet%d;rport\r\n"+
			"Max-Forwards: 70\r\nFrom: <sip:%s@127.0.0.1>;tag=fleet\r\nTo: <sip:%s@127.0.0.1>\r\n"+
			"Call-ID: check-sync-%d@fleet\r\nCSeq: 1 NOTIFY\r\nEvent: check-sync\r\n"+
			"Subscription-State: terminated\r\nContent-Length: 0\r\n\r\n",
			ph.ext, f.k.Addr.Port, f.notifyPort, i, admin, ph.ext, i)
		if _, err := conn.WriteToUDP([]byte(msg), f.k.Addr); err != nil {
			f.o.Logf("fleet: resync: NOTIFY to %s: %v", ph.ext, err)
		}
	}
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
	tB, _ := perf.ReadSample(f.tftp.PID())
	r.TFTPD = usage([]perf.Sample{tA}, []perf.Sample{tB})
	r.Failed = len(f.phones) - r.Done
	if !last.IsZero() {
		r.All = last.Sub(t0)
	}
	conn.SetReadDeadline(time.Now())
	r.Notified = <-answered
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
