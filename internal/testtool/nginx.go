package testtool

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// NginxConfig is what a test's nginx serves: one folder, over HTTP, HTTPS
// or both, each on a port held for the test.
type NginxConfig struct {
	Root string // the folder served at /
	// HTTP serves Root over plain HTTP.
	HTTP bool
	// CertFile and KeyFile (PEM) serve Root over HTTPS too, with that
	// certificate (Issue makes them).
	CertFile, KeyFile string
	// ClientCAFile (PEM), with HTTPS: every client must show a
	// certificate signed by it (ssl_verify_client on).
	ClientCAFile string
	// Extra are more directives for the server blocks, e.g.
	// "limit_rate 64k;" or a location block.
	Extra string
}

// NginxServer is a running nginx.
type NginxServer struct {
	HTTP  string // "127.0.0.1:port" of plain HTTP; "" when not served
	HTTPS string // "127.0.0.1:port" of HTTPS; "" when not served
	Dir   string // its prefix folder: nginx.conf, access.log, nginx.pid

	proc *Proc
	once sync.Once
}

// accessFormat is the access log's line: enough to check what a client
// asked (its conditional headers) and what it got.
const accessFormat = `'$server_port $request_method $uri $status $body_bytes_sent inm=[$http_if_none_match] ims=[$http_if_modified_since]'`

// Nginx starts nginx (Debian's nginx-light) in the foreground, as one
// process (master_process off, so Kill stops every byte at once), with a
// configuration written into a folder of the test's, its error log on
// stderr (logged when the test fails), and returns once every port it
// serves accepts connections (at most 10 s). It is killed when the test
// ends. Without nginx the test stops as Need says.
func Nginx(t testing.TB, c NginxConfig) *NginxServer {
	t.Helper()
	bin := Need(t, "nginx")
	if !c.HTTP && c.CertFile == "" {
		t.Fatal("testtool: nginx serving neither http nor https")
	}
	root, err := filepath.Abs(c.Root)
	if err != nil {
		t.Fatal(err)
	}
	n := &NginxServer{Dir: t.TempDir()}
	var servers strings.Builder
	server := func(listen, tls string) {
		fmt.Fprintf(&servers, "  server {\n    listen %s;\n%s    root %s;\n    location / { }\n%s\n  }\n", listen, tls, quote(root), c.Extra)
	}
	if c.HTTP {
		n.HTTP = net.JoinHostPort("127.0.0.1", strconv.Itoa(Port(t)))
		server(n.HTTP, "")
	}
	if c.CertFile != "" {
		n.HTTPS = net.JoinHostPort("127.0.0.1", strconv.Itoa(Port(t)))
		tls := fmt.Sprintf("    ssl_certificate %s;\n    ssl_certificate_key %s;\n", quote(c.CertFile), quote(c.KeyFile))
		if c.ClientCAFile != "" {
			tls += fmt.Sprintf("    ssl_client_certificate %s;\n    ssl_verify_client on;\n", quote(c.ClientCAFile))
		}
		server(n.HTTPS+" ssl", tls)
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
  default_type application/octet-stream;
  log_format deskphone escape=none %s;
  access_log %s deskphone;
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
%s}
`, accessFormat, quote(filepath.Join(n.Dir, "access.log")), servers.String())
	if err := os.MkdirAll(filepath.Join(n.Dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.Dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n.proc = Daemon(t, "nginx", bin, []string{"-p", n.Dir, "-c", "nginx.conf", "-e", "stderr"}, "", 0)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx.conf:\n%s", conf)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range []string{n.HTTP, n.HTTPS} {
		for addr != "" {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-n.proc.Exited():
				t.Fatalf("testtool: nginx exited: %v\n%s\nnginx.conf:\n%s", n.proc.State(), n.proc.Output(), conf)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("testtool: nginx does not accept on %s in 10 s: %v\n%s", addr, err, n.proc.Output())
			}
		}
	}
	return n
}

// Kill stops nginx at once (SIGKILL): transfers under way break off. Safe
// to call more than once.
func (n *NginxServer) Kill() {
	n.once.Do(n.proc.Kill)
}

// AccessLog returns the access log's lines so far, one per request:
// the port asked, method, path, status, body bytes sent and the
// conditional headers: `10443 GET /phone.cfg 304 0 inm=["5f-1"]
// ims=[Wed, 02 Dec 2026 07:00:00 GMT]`
// (nginx writes a line when the answer is complete).
func (n *NginxServer) AccessLog() []string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "access.log"))
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// WaitLog waits until the access log has at least lines lines (nginx
// logs a request once it has answered it, which may be just after the
// client has read the answer) and returns them; it fails the test after
// 10 s.
func (n *NginxServer) WaitLog(t testing.TB, lines int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := n.AccessLog()
		if len(l) >= lines {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("testtool: nginx's access log has %d lines, want %d:\n%s", len(l), lines, strings.Join(l, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Output is what nginx wrote to stderr so far (its error log).
func (n *NginxServer) Output() string { return n.proc.Output() }

// quote makes s one nginx configuration token.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
