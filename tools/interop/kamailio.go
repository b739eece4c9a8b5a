package interop

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/tools/pbx"
)

// KamailioModules returns the folder of Kamailio's modules (tm.so and the
// others), "" if none of the usual places has them.
func KamailioModules() string {
	var dirs []string
	for _, pat := range []string{"/usr/lib/*/kamailio/modules", "/usr/lib/kamailio/modules", "/usr/lib64/kamailio/modules", "/usr/local/lib*/kamailio/modules"} {
		m, _ := filepath.Glob(pat)
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "tm.so")); err == nil {
			return d
		}
	}
	return ""
}

// Kamailio is a running Kamailio.
type Kamailio struct {
	Addr *net.UDPAddr // where it listens: 127.0.0.1 and KamailioOptions.Port
	cmd  *exec.Cmd
	done chan struct{}

	mu     sync.Mutex
	ladder []pbx.Entry
	log    strings.Builder
}

// KamailioOptions say how to start Kamailio.
type KamailioOptions struct {
	Binary  string   // path of kamailio
	Config  string   // the configuration file
	Dir     string   // runtime folder (-Y)
	Port    int      // UDP port on 127.0.0.1
	Defines []string // -A NAME for each, e.g. WITH_SHA256
	TCP     bool     // listen on TCP at Port too (-A WITH_TCP)
	TLS     *KamailioTLS
	// Rtpengine, when set, is the ng control socket of an rtpengine
	// ("udp:127.0.0.1:PORT", testtool.StartRtpengine) that Kamailio puts
	// in the media path of every call (-A WITH_RTPENGINE).
	Rtpengine string
	Ready     time.Duration
	// SharedMB is its shared memory (-m), where usrloc, the transactions
	// and the nonces live; 32 when 0. tools/fleet saw 32 MB run out at
	// 2000 phones (tm's "out of mem", a 500 to REGISTERs and INVITEs).
	SharedMB int
}

// KamailioTLS makes Kamailio listen on TLS too (tls.so, -A WITH_TLS),
// with a certificate the test made (testtool.NewCA). Its log then has a
// "PROTO|method|proto|from user|client certificate CN" line for each
// request (Kamailio.Protos).
type KamailioTLS struct {
	Port          int    // TLS port on 127.0.0.1
	Cert, Key, CA string // PEM files: Kamailio's certificate chain and key, the CA that signs clients
	RequireClient bool   // a client must show a certificate the CA signed (require_certificate)
}

// StartKamailio starts Kamailio in the foreground with its log on stderr
// and waits until it answers an OPTIONS (at most o.Ready, default 10 s).
// Lines of the form LADDER|dir|ip:port|method|summary|call-id|from|to
// (the configuration's xlog) become ladder entries.
func StartKamailio(ctx context.Context, o KamailioOptions) (*Kamailio, error) {
	mods := KamailioModules()
	if mods == "" {
		return nil, errors.New("interop: Kamailio's modules (tm.so) not found")
	}
	if o.Ready == 0 {
		o.Ready = 10 * time.Second
	}
	if o.SharedMB == 0 {
		o.SharedMB = 32
	}
	args := []string{"-f", o.Config, "-DD", "-E", "-l", fmt.Sprintf("udp:127.0.0.1:%d", o.Port),
		"-L", mods, "-Y", o.Dir, "-m", strconv.Itoa(o.SharedMB), "-M", "4", "-w", o.Dir}
	if o.TCP {
		args = append(args, "-l", fmt.Sprintf("tcp:127.0.0.1:%d", o.Port), "-A", "WITH_TCP")
	}
	if t := o.TLS; t != nil {
		req := "0"
		if t.RequireClient {
			req = "1"
		}
		args = append(args, "-l", fmt.Sprintf("tls:127.0.0.1:%d", t.Port), "-A", "WITH_TLS",
			"-A", fmt.Sprintf("TLS_CERT=%q", t.Cert), "-A", fmt.Sprintf("TLS_KEY=%q", t.Key), "-A", fmt.Sprintf("TLS_CA=%q", t.CA),
			"-A", "TLS_REQUIRE_CLIENT="+req)
	}
	if o.Rtpengine != "" {
		args = append(args, "-A", "WITH_RTPENGINE", "-A", fmt.Sprintf("RTPENGINE_SOCK=%q", o.Rtpengine))
	}
	for _, d := range o.Defines {
		args = append(args, "-A", d)
	}
	cmd := exec.Command(o.Binary, args...)
	ownGroup(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	k := &Kamailio{Addr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: o.Port}, cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("interop: kamailio: %w", err)
	}
	go func() {
		k.readLog(stderr)
		cmd.Wait()
		close(k.done)
	}()
	ready, cancel := context.WithTimeout(ctx, o.Ready)
	defer cancel()
	if err := k.waitReady(ready); err != nil {
		k.Stop()
		return nil, fmt.Errorf("interop: kamailio did not answer on %v: %w\n%s", k.Addr, err, k.Log())
	}
	return k, nil
}

func (k *Kamailio) readLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		k.mu.Lock()
		k.log.WriteString(line)
		k.log.WriteByte('\n')
		if e, ok := ParseLadderLine(line, time.Now()); ok {
			k.ladder = append(k.ladder, e)
		}
		k.mu.Unlock()
	}
}

// waitReady sends an OPTIONS every 200 ms until any response comes back.
func (k *Kamailio) waitReady(ctx context.Context) error {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer c.Close()
	port := c.LocalAddr().(*net.UDPAddr).Port
	buf := make([]byte, 4096)
	for i := 0; ; i++ {
		select {
		case <-k.done:
			return errors.New("kamailio exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		msg := fmt.Sprintf("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKprobe%d;rport\r\n"+
			"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=probe\r\nTo: <sip:127.0.0.1>\r\n"+
			"Call-ID: probe-%d@127.0.0.1\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n",
			k.Addr.Port, port, i, port, i+1)
		if _, err := c.WriteToUDP([]byte(msg), k.Addr); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, _, err := c.ReadFromUDP(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 ") {
			return nil
		}
	}
}

// PID is the process ID of Kamailio's main process (its workers are its
// children).
func (k *Kamailio) PID() int { return k.cmd.Process.Pid }

// Ladder returns the messages Kamailio has logged so far.
func (k *Kamailio) Ladder() []pbx.Entry {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]pbx.Entry(nil), k.ladder...)
}

// Authenticated returns the credentials (Authorization or
// Proxy-Authorization value) of each request that passed authentication,
// as "METHOD user credentials", from the configuration's AUTHOK lines.
func (k *Kamailio) Authenticated() []string { return k.logged("AUTHOK|", 4) }

// Protos returns, for each request Kamailio received, "METHOD proto user
// cn": the transport it came over ($proto: udp, tcp, tls), its From user,
// and over TLS the client certificate's common name ("-" without one),
// from the configuration's PROTO lines (KamailioOptions.TLS).
func (k *Kamailio) Protos() []string { return k.logged("PROTO|", 5) }

// Media returns, for each SDP Kamailio handed to rtpengine
// (KamailioOptions.Rtpengine), "method-or-code call-id flags", from the
// configuration's MEDIA lines.
func (k *Kamailio) Media() []string { return k.logged("MEDIA|", 4) }

// logged returns the log's lines "PREFIX|f1|f2|..." of n fields (the
// prefix's one included) as "f1 f2 ...".
func (k *Kamailio) logged(prefix string, n int) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, line := range strings.Split(k.log.String(), "\n") {
		if i := strings.Index(line, prefix); i >= 0 {
			if f := strings.SplitN(strings.TrimSpace(line[i:]), "|", n); len(f) == n {
				out = append(out, strings.Join(f[1:], " "))
			}
		}
	}
	return out
}

// Log returns Kamailio's output so far.
func (k *Kamailio) Log() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.log.String()
}

// Stop ends Kamailio and its children (SIGTERM to its process group, then
// SIGKILL after 3 s).
func (k *Kamailio) Stop() {
	stopGroup(k.cmd, k.done, 3*time.Second)
}

// ParseLadderLine turns one LADDER|dir|ip:port|method|summary|call-id|from|to
// log line into a ladder entry.
func ParseLadderLine(line string, now time.Time) (pbx.Entry, bool) {
	i := strings.Index(line, "LADDER|")
	if i < 0 {
		return pbx.Entry{}, false
	}
	f := strings.Split(strings.TrimSpace(line[i:]), "|")
	if len(f) != 8 || (f[1] != "in" && f[1] != "out") {
		return pbx.Entry{}, false
	}
	peer, err := net.ResolveUDPAddr("udp", f[2])
	if err != nil {
		return pbx.Entry{}, false
	}
	e := pbx.Entry{Time: now, Dir: f[1], Peer: peer, Method: f[3], Summary: f[4], CallID: f[5], From: f[6], To: f[7]}
	if code, _, ok := strings.Cut(f[4], " "); ok && len(code) == 3 && code[0] >= '1' && code[0] <= '6' {
		fmt.Sscanf(code, "%d", &e.Status)
	} else {
		e.Request = true
	}
	for _, s := range []*string{&e.From, &e.To} {
		if *s == "<null>" {
			*s = ""
		}
	}
	return e, true
}

// kamailioCfg is testdata/kamailio.cfg, for tools that run Kamailio
// outside this package's tests (tools/fleet).
//
//go:embed testdata/kamailio.cfg
var kamailioCfg []byte

// WriteKamailioConfig writes the interop configuration
// (testdata/kamailio.cfg, the one the tests run) into dir and returns its
// path.
func WriteKamailioConfig(dir string) (string, error) {
	p := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(p, kamailioCfg, 0o644); err != nil {
		return "", fmt.Errorf("interop: %w", err)
	}
	return p, nil
}

// WriteSubscribers writes users (extension -> password) as the db_text
// table DIR/htable that the configuration's WITH_SUBSCRIBERS loads into
// its password table, and returns the define that names the folder
// (SUBSCRIBERS="text:///DIR", for KamailioOptions.Defines). Extensions
// and passwords must be letters, digits, '-', '_' or '.' (db_text
// escapes nothing here).
func WriteSubscribers(dir string, users map[string]string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("interop: %w", err)
	}
	var b strings.Builder
	b.WriteString("id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int)\n")
	exts := make([]string, 0, len(users))
	for ext := range users {
		exts = append(exts, ext)
	}
	sort.Strings(exts)
	for i, ext := range exts {
		if !plainToken(ext) || !plainToken(users[ext]) {
			return "", fmt.Errorf("interop: subscriber %q: extension and password must be letters, digits, '-', '_' or '.'", ext)
		}
		// key_type 0 (a plain key), value_type 0 (a string), never expires
		fmt.Fprintf(&b, "%d:%s:0:0:%s:0\n", i+1, ext, users[ext])
	}
	if err := os.WriteFile(filepath.Join(abs, "htable"), []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("interop: %w", err)
	}
	return `SUBSCRIBERS="text://` + abs + `"`, nil
}

func plainToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
