package perf

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// leanConfig is baresip's config file for the comparison: as little as its
// virtual audio devices allow. G.711 only; 8 kHz mono at both ends of the
// audio pipeline, so nothing is resampled; aubridge as both the earpiece
// and the microphone of one device ("loop"): one thread per call that,
// every 20 ms, takes the decoded frame from the player and hands it to the
// source, which encodes and sends it (what a sound card's clock does,
// without a sound card). No ringback or ring files (audio_path is the
// config folder, which has none, so no player opens before the call's:
// a ringback player on the loop device keeps aubridge from starting the
// call's thread), no status line (statmode_default off: the menu would
// redraw it ten times a second), no audio level, no sndfile dumps. menu
// is loaded for its commands (dial, hangup), ctrl_tcp to send them and to
// get events. SIP and RTP on the loopback only.
func leanConfig(sipPort, ctrlPort, rtpMin, rtpMax int, dir, mods string) string {
	return fmt.Sprintf(`poll_method		epoll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
call_max_calls		1
audio_path		%s
audio_player		aubridge,loop
audio_source		aubridge,loop
audio_alert		aubridge,alert
ausrc_srate		8000
ausrc_channels		1
auplay_srate		8000
auplay_channels		1
audio_level		no
rtp_ports		%d-%d
rtcp_mux		no
statmode_default	off
ctrl_tcp_listen		127.0.0.1:%d
module_path		%s
module			g711.so
module			aubridge.so
module_app		account.so
module_app		menu.so
module_app		ctrl_tcp.so
`, sipPort, dir, rtpMin, rtpMax, ctrlPort, mods)
}

// ctrlMsg is one JSON message from baresip's ctrl_tcp module: a response
// to a command or an event.
type ctrlMsg struct {
	Event     bool      `json:"event"`
	Type      string    `json:"type"` // CALL_ESTABLISHED, CALL_RTCP, CALL_CLOSED, ...
	Class     string    `json:"class"`
	Response  bool      `json:"response"`
	OK        bool      `json:"ok"`
	Data      string    `json:"data"`
	Token     string    `json:"token"`
	Param     string    `json:"param"`
	RTCPStats *rtcpStat `json:"rtcp_stats"`
}

// rtcpStat is a CALL_RTCP event's figures: tx.sent the RTP packets this
// baresip sent, rx.sent those the far end says it sent (its RTCP sender
// report).
type rtcpStat struct {
	TX struct {
		Sent int `json:"sent"`
		Lost int `json:"lost"`
	} `json:"tx"`
	RX struct {
		Sent int `json:"sent"`
		Lost int `json:"lost"`
	} `json:"rx"`
}

// ctrl is a connection to baresip's ctrl_tcp: commands and responses as
// netstrings ("LEN:JSON,"), events between them.
type ctrl struct {
	conn net.Conn

	wmu   sync.Mutex
	token int

	mu     sync.Mutex
	msgs   []ctrlMsg
	notify chan struct{}
	err    error
}

// dialCtrl connects to ctrl_tcp at addr, retrying while baresip starts.
func dialCtrl(ctx context.Context, addr string) (*ctrl, error) {
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c := &ctrl{conn: conn, notify: make(chan struct{})}
			go c.read()
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("perf: baresip ctrl_tcp %s: %w (last: %v)", addr, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *ctrl) read() {
	r := bufio.NewReader(c.conn)
	for {
		b, err := readNetstring(r)
		var m ctrlMsg
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		c.mu.Lock()
		if err != nil {
			c.err = fmt.Errorf("perf: baresip ctrl_tcp: %w", err)
		} else {
			c.msgs = append(c.msgs, m)
		}
		close(c.notify)
		c.notify = make(chan struct{})
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// readNetstring reads one "LEN:DATA," and returns DATA.
func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(head[:len(head)-1])
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("bad netstring length %q", head)
	}
	b := make([]byte, n+1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if b[n] != ',' {
		return nil, errors.New("netstring without its ','")
	}
	return b[:n], nil
}

// mark is the number of messages so far: wait(mark, ...) sees later ones.
func (c *ctrl) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// wait returns the first message from mark on that ok accepts.
func (c *ctrl) wait(ctx context.Context, mark int, what string, ok func(ctrlMsg) bool) (ctrlMsg, error) {
	for {
		c.mu.Lock()
		for ; mark < len(c.msgs); mark++ {
			if ok(c.msgs[mark]) {
				m := c.msgs[mark]
				c.mu.Unlock()
				return m, nil
			}
		}
		n, err := c.notify, c.err
		c.mu.Unlock()
		if err != nil {
			return ctrlMsg{}, fmt.Errorf("perf: baresip: waiting for %s: %w", what, err)
		}
		select {
		case <-n:
		case <-ctx.Done():
			return ctrlMsg{}, fmt.Errorf("perf: baresip: waiting for %s: %w", what, ctx.Err())
		}
	}
}

// last returns the latest message from mark on that ok accepts (the zero
// ctrlMsg if none).
func (c *ctrl) last(mark int, ok func(ctrlMsg) bool) ctrlMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.msgs) - 1; i >= mark; i-- {
		if ok(c.msgs[i]) {
			return c.msgs[i]
		}
	}
	return ctrlMsg{}
}

// waitEvent waits for an event of the type from mark on.
func (c *ctrl) waitEvent(ctx context.Context, mark int, typ string) (ctrlMsg, error) {
	return c.wait(ctx, mark, typ, func(m ctrlMsg) bool { return m.Event && m.Type == typ })
}

// command sends a command (a menu command: "dial", "hangup", ...) and
// waits for its response.
func (c *ctrl) command(ctx context.Context, cmd, params string) (string, error) {
	c.wmu.Lock()
	c.token++
	tok := "perf" + strconv.Itoa(c.token)
	b, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": tok})
	mark := c.mark()
	_, err := fmt.Fprintf(c.conn, "%d:%s,", len(b), b)
	c.wmu.Unlock()
	if err != nil {
		return "", fmt.Errorf("perf: baresip %s: %w", cmd, err)
	}
	m, err := c.wait(ctx, mark, cmd+" response", func(m ctrlMsg) bool { return m.Response && m.Token == tok })
	if err != nil {
		return "", err
	}
	if !m.OK {
		return m.Data, fmt.Errorf("perf: baresip %s %s: %s", cmd, params, m.Data)
	}
	return m.Data, nil
}

func (c *ctrl) close() { c.conn.Close() }
