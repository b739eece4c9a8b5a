package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/tools/pbx"
)

// The run folder is made (a second run in the same second gets -2) and
// the ladder files get each entry as it comes, kept after close.
func TestRunFolderAndLadder(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	a, err := runDir("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := runDir("")
	if err != nil {
		t.Fatal(err)
	}
	if a == b || !strings.HasPrefix(filepath.Base(a), "deskphone-run-") {
		t.Fatalf("run folders %s, %s", a, b)
	}
	l, err := ladderFiles(a)
	if err != nil {
		t.Fatal(err)
	}
	l.add(pbx.Entry{Time: time.Now(), Dir: "in", Peer: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5062},
		Summary: "REGISTER sip:127.0.0.1", Request: true, From: "1001", To: "1001", CallID: "c1",
		Raw: []byte("REGISTER sip:127.0.0.1 SIP/2.0\r\nCall-ID: c1\r\n\r\n")})
	l.close()
	ladder, _ := os.ReadFile(filepath.Join(a, "ladder.txt"))
	sip, _ := os.ReadFile(filepath.Join(a, "sip.txt"))
	if !strings.Contains(string(ladder), "1001 -> PBX  REGISTER sip:127.0.0.1  (c1)") ||
		!strings.Contains(string(sip), "(c1)\nREGISTER sip:127.0.0.1 SIP/2.0\r\nCall-ID: c1\n") {
		t.Fatalf("ladder.txt %q\nsip.txt %q", ladder, sip)
	}
}
