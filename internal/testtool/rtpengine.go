package testtool

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Rtpengine is a running rtpengine (Sipwise's media relay, Debian's
// rtpengine-daemon), the media anchor a Kamailio puts in the path of calls
// with phones behind a NAT (its rtpengine module).
type Rtpengine struct {
	*Proc
	// NG is its control socket (the "ng" protocol, bencode over UDP).
	NG *net.UDPAddr
	// PortMin..PortMax are the media ports it relays on, on 127.0.0.1.
	PortMin, PortMax int
}

// rtpenginePorts is how many media ports an rtpengine gets: two calls of
// two legs, RTP and RTCP each, with room to spare.
const rtpenginePorts = 20

// StartRtpengine starts rtpengine in the foreground for the test:
// userspace forwarding only (--table=-1: no kernel module), media on
// 127.0.0.1 on ports of its own (Ports) through two logical interfaces,
// "host" (advertised as 127.0.0.1) and "guest" (advertised as 10.0.2.2,
// how a phone in QEMU reaches the host), the ng control protocol on
// 127.0.0.1 (Port), a session ended at once on delete (--delete-delay=0),
// logging on stderr at level 6 (one line per offer, answer and delete,
// and each call's final packet counts), no configuration file. It returns once rtpengine says it started and
// answers an ng ping; it stops with the test.
func StartRtpengine(t testing.TB) *Rtpengine {
	t.Helper()
	bin := Need(t, "rtpengine")
	ng := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: Port(t)}
	lo := EvenPorts(t, rtpenginePorts)
	r := &Rtpengine{NG: ng, PortMin: lo, PortMax: lo + rtpenginePorts - 1}
	r.Proc = Daemon(t, "rtpengine", bin, []string{
		"--config-file=none", "--table=-1", "--interface=host/127.0.0.1", "--interface=guest/127.0.0.1!10.0.2.2",
		"--listen-ng=" + ng.String(),
		"--port-min=" + strconv.Itoa(r.PortMin), "--port-max=" + strconv.Itoa(r.PortMax),
		"--delete-delay=0", "--foreground", "--log-stderr", "--log-level=6",
	}, "Startup complete", 15*time.Second)
	if err := r.ping(10 * time.Second); err != nil {
		t.Fatalf("testtool: rtpengine: %v\n%s", err, r.Output())
	}
	return r
}

// ping sends the ng protocol's ping ("d7:command4:pinge" after a cookie)
// until rtpengine answers pong ("d6:result4:ponge").
func (r *Rtpengine) ping(wait time.Duration) error {
	c, err := net.DialUDP("udp", nil, r.NG)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 512)
	for end := time.Now().Add(wait); time.Now().Before(end); {
		if _, err := c.Write([]byte("probe d7:command4:pinge")); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil && strings.HasPrefix(string(buf[:n]), "probe d6:result4:ponge") {
			return nil
		}
	}
	return fmt.Errorf("no pong on %s within %v", r.NG, wait)
}

// Serves reports whether port is one of its media ports.
func (r *Rtpengine) Serves(port int) bool { return port >= r.PortMin && port <= r.PortMax }
