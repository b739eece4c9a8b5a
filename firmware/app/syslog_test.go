package app

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/firmware/diag"
)

// TestRollbackNoteToSyslog: the boot loader's note of a firmware rollback,
// logged before the configuration named log.syslog, reaches the syslog
// server once it is known, as a warning.
func TestRollbackNoteToSyslog(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dl := diag.NewLog(diag.LogConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	note := "update to 1.1.0 failed, rolled back to 1.0.0 (factory)"
	go startSyslog(ctx, dl, diag.SyslogConfig{Addr: c.LocalAddr().String(), Hostname: "525400123410"}, note, dl.Printf)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no rollback note at the syslog server: %v", err)
		}
		if m := string(buf[:n]); strings.Contains(m, note) {
			// RFC 5424: <PRI>1 with severity warning (4): facility*8+4.
			i := strings.IndexByte(m, '>')
			if i < 2 || m[0] != '<' {
				t.Fatalf("not RFC 5424: %q", m)
			}
			if pri, err := strconv.Atoi(m[1:i]); err != nil || pri%8 != 4 {
				t.Errorf("PRI %s in %q: want severity warning (4)", m[1:i], m)
			}
			return
		}
	}
}
