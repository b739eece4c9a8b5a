package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/firmware/netboot"
	"github.com/deskphone/deskphone/internal/testtool"
)

// TestProvisionOverHTTPS: a phone whose DHCP names an http:// server
// (option 160) boots from nginx, and keeps what it got on its state
// device; its common file moves it to https (provision.url, provision.ca):
// a restart starts on the stored configuration at once and, within
// provision.spread_seconds, fetches both files over https. The refusals
// of bad certificates are firmware/provision's TestHTTPSProvisioning.
func TestProvisionOverHTTPS(t *testing.T) {
	ca := testtool.NewCA(t, "fleet CA")
	good := ca.Issue(t, "prov", testtool.LeafOptions{Hosts: []string{"127.0.0.1"}})
	root := t.TempDir()
	n := testtool.Nginx(t, testtool.NginxConfig{Root: root, HTTP: true, CertFile: good.CertFile, KeyFile: good.KeyFile})
	mac, _ := net.ParseMAC("52:54:00:12:34:60")
	os.MkdirAll(filepath.Join(root, "p"), 0o755)
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(root, "p", name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("site.cfg", "line.1.registrar = 10.0.2.2\nprovision.spread_seconds = 1\nprovision.url = https://"+n.HTTPS+"/p/\nprovision.ca = "+base64.StdEncoding.EncodeToString(ca.Cert.Raw)+"\n")
	write("525400123460.cfg", "line.1.user = 1001\n")
	lease := netboot.Lease{MAC: mac, Server: n.HTTP, Scheme: "http", ConfigDir: "p", BootFile: "site.cfg", ServerSource: netboot.FromOption160}
	o := Options{Board: boards.Board{StateDevice: filepath.Join(t.TempDir(), "state")}}
	os.WriteFile(o.Board.StateDevice, nil, 0o600)
	var mu sync.Mutex
	var logs []string
	step := func(f string, a ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(f, a...))
		mu.Unlock()
	}
	joined := func() string { mu.Lock(); defer mu.Unlock(); return strings.Join(logs, "\n") }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, cfg, _, err := provisionConfig(ctx, o, &lease, step)
	if err != nil || cfg.Lines[0].User != "1001" || !strings.Contains(joined(), "configuration from http://"+n.HTTP+"/p: site.cfg") {
		t.Fatalf("first boot: %v\n%s", err, joined())
	}

	// The restart: on the stored configuration at once, then over https.
	logs = nil
	p, cfg, _, err = provisionConfig(ctx, o, &lease, step)
	if err != nil || cfg.Lines[0].User != "1001" || !strings.Contains(joined(), "starting on the stored configuration") {
		t.Fatalf("second boot: %v\n%s", err, joined())
	}
	mark := len(n.WaitLog(t, 2)) // the first boot's two requests
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(runCtx); close(done) }()
	port := n.HTTPS[strings.LastIndexByte(n.HTTPS, ':')+1:]
	got := strings.Join(n.WaitLog(t, mark+2)[mark:], "\n")
	stop()
	<-done
	if !strings.Contains(got, port+" GET /p/site.cfg 200") || !strings.Contains(got, port+" GET /p/525400123460.cfg 200") {
		t.Fatalf("no https resync; access log:\n%s\nphone:\n%s", got, joined())
	}
}
