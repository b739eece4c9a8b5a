package pbx

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// Interop against SIPp, a SIP peer nobody here wrote (Debian package
// sip-tester): testtool.Need skips without it, or fails under CI.

// sipp runs one bounded sipp: one call (-m 1), a scenario timeout, and a
// context deadline on the process; its media ports (-mp) are held for the
// test.
func sipp(ctx context.Context, t *testing.T, bin, dir string, args ...string) *exec.Cmd {
	t.Helper()
	abs, err := filepath.Abs("testdata/sipp")
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		if strings.HasSuffix(a, ".xml") {
			args[i] = filepath.Join(abs, a)
		}
	}
	args = append(args, "-i", "127.0.0.1", "-m", "1", "-timeout", "15s", "-timeout_error",
		"-nostdin", "-max_retrans", "5", "-mp", strconv.Itoa(testtool.Ports(t, 4)))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	return cmd
}

func runSipp(ctx context.Context, t *testing.T, bin string, args ...string) error {
	t.Helper()
	cmd := sipp(ctx, t, bin, t.TempDir(), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("sipp %s:\n%s", strings.Join(args, " "), lastLines(string(out), 12))
	}
	return err
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func TestSippRegister(t *testing.T) {
	bin := testtool.Need(t, "sipp")
	p, _ := startPBX(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target := p.Addr().String()

	err := runSipp(ctx, t, bin, target, "-sf", "register.xml", "-s", "1001", "-au", "1001", "-ap", "nope",
		"-p", strconv.Itoa(testtool.Port(t)))
	if err == nil {
		t.Error("sipp registered with a wrong password")
	}
	if p.Registered("1001") {
		t.Fatal("registered with a wrong password")
	}
	if err := runSipp(ctx, t, bin, target, "-sf", "register.xml", "-s", "1001", "-au", "1001", "-ap", "pw1001",
		"-p", strconv.Itoa(testtool.Port(t))); err != nil {
		t.Fatalf("sipp register: %v", err)
	}
	if !p.Registered("1001") {
		t.Fatal("sipp got its 200 but 1001 is not registered")
	}
	var got []string
	for _, e := range p.Ladder() {
		if e.Method == "REGISTER" { // sipp may send a BYE when its call fails
			got = append(got, e.Dir+" "+e.Summary)
		}
	}
	want := []string{
		"in REGISTER sip:" + target, "out 401 Unauthorized",
		"in REGISTER sip:" + target, "out 403 Forbidden",
		"in REGISTER sip:" + target, "out 401 Unauthorized",
		"in REGISTER sip:" + target, "out 200 OK",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ladder:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSippCall(t *testing.T) {
	bin := testtool.Need(t, "sipp")
	p, _ := startPBX(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	target := p.Addr().String()
	uasPort := strconv.Itoa(testtool.Port(t))

	// 1002 registers from the port its UAS will then answer on: the PBX
	// sends calls to the registration's flow.
	if err := runSipp(ctx, t, bin, target, "-sf", "register.xml", "-s", "1002", "-au", "1002", "-ap", "pw1002",
		"-p", uasPort); err != nil {
		t.Fatalf("sipp register 1002: %v", err)
	}
	if err := p.WaitRegistered(ctx, "1002"); err != nil {
		t.Fatal(err)
	}
	// The UAS binds its port shortly after starting; should the INVITE come
	// first, the PBX's own INVITE retransmissions (Timer A) cover it.
	uas := sipp(ctx, t, bin, t.TempDir(), "-sf", "uas.xml", "-s", "1002", "-p", uasPort)
	var uasOut strings.Builder
	uas.Stdout, uas.Stderr = &uasOut, &uasOut
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	uacErr := runSipp(ctx, t, bin, target, "-sf", "uac.xml", "-s", "1002", "-au", "1001", "-ap", "pw1001",
		"-set", "caller", "1001", "-p", strconv.Itoa(testtool.Port(t)))
	uasErr := uas.Wait()
	if uasErr != nil {
		t.Logf("sipp uas:\n%s", lastLines(uasOut.String(), 12))
	}
	if uacErr != nil || uasErr != nil {
		t.Fatalf("sipp uac: %v, uas: %v", uacErr, uasErr)
	}

	var callID string
	for _, e := range p.Ladder() {
		if e.Request && e.Method == "INVITE" {
			callID = e.CallID
			break
		}
	}
	var call []Entry
	for _, e := range p.Ladder() {
		if e.CallID == callID {
			call = append(call, e)
		}
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(FormatLadder(call, nil)), "\n") {
		_, rest, _ := strings.Cut(l, "  ")
		got = append(got, strings.Join(strings.Fields(rest), " "))
	}
	uasURI := "sip:1002@127.0.0.1:" + uasPort
	want := []string{
		"1001 -> PBX INVITE sip:1002@" + target,
		"PBX -> 1001 407 Proxy Authentication Required",
		"1001 -> PBX ACK sip:1002@" + target,
		"1001 -> PBX INVITE sip:1002@" + target,
		"PBX -> 1001 100 Trying",
		"PBX -> 1002 INVITE " + uasURI,
		"1002 -> PBX 180 Ringing",
		"PBX -> 1001 180 Ringing",
		"1002 -> PBX 200 OK",
		"PBX -> 1001 200 OK",
		"1001 -> PBX ACK " + uasURI,
		"PBX -> 1002 ACK " + uasURI,
		"1001 -> PBX BYE " + uasURI,
		"PBX -> 1002 BYE " + uasURI,
		"1002 -> PBX 200 OK",
		"PBX -> 1001 200 OK",
	}
	// Should the UAS have bound late, the PBX retransmitted the INVITE.
	var dedup []string
	for i, g := range got {
		if i > 0 && g == got[i-1] && strings.HasPrefix(g, "PBX -> 1002 INVITE") {
			continue
		}
		dedup = append(dedup, g)
	}
	if strings.Join(dedup, "\n") != strings.Join(want, "\n") {
		t.Errorf("ladder:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Every INVITE, ACK and BYE to 1002 went to its flow; every response to 1001's port.
	for _, e := range call {
		if e.Dir == "out" && e.To == "1002" && e.Request && e.Peer.Port != mustAtoi(t, uasPort) {
			t.Errorf("%s sent to %s, not to 1002's flow", e.Summary, e.Peer)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
