package lab

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/pbx"
	"github.com/deskphone/deskphone/tools/provision"
	"github.com/deskphone/deskphone/tools/qemu"
)

// TestFirmwareUpdates updates one QEMU phone (factory image 1.0.0 in its
// initramfs, a disk with the A/B slots) over QEMU's TFTP, case by case,
// each from a power-on on the same disk:
//
//  1. an image signed by another key: refused, the phone stays 1.0.0;
//  2. an image that crashes at start: installed, started twice
//     (firmware.tries = 2), rolled back to 1.0.0, shown on the display;
//  3. an image that never registers: stopped at its deadline, rolled back;
//  4. a good phoned 1.3.0, with QEMU killed while the slot is written:
//     the phone comes back as 1.0.0, installs it whole, and registers as
//     1.3.0 (User-Agent: deskphone/1.3.0 on its REGISTER);
//  5. phoned 1.4.0, installed by 1.3.0 running from slot A into slot B.
//
// Every case ends on a registered phone with the version it expects.
func TestFirmwareUpdates(t *testing.T) {
	needQEMU(t)
	testtool.Long(t, "make e2e")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	pub := base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
	const ext = "1001"
	// The images: tiny programs that fail, and phoned as 1.3.0.
	images := map[string][]byte{}
	for _, im := range []struct {
		name, pkg, version string
		key                ed25519.PrivateKey
	}{
		{"other-key", "./tools/lab/testdata/crashfw", "2.0.0", other},
		{"crash", "./tools/lab/testdata/crashfw", "1.1.0", priv},
		{"hang", "./tools/lab/testdata/hangfw", "1.2.0", priv},
		{"good", "./firmware/cmd/phoned", "1.3.0", priv},
		{"next", "./firmware/cmd/phoned", "1.4.0", priv},
	} {
		bin := filepath.Join(dir, im.name+".bin")
		if err := qemu.BuildArm64WithVersion(ctx, root, im.pkg, bin, versionFlag(im.pkg, im.version)); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(bin)
		if images[im.name], err = provision.FirmwareImage(im.key, im.version, b); err != nil {
			t.Fatal(err)
		}
	}
	// The first image is there before the phone boots (Start creates the
	// rest of the folder).
	labDir := filepath.Join(dir, "lab")
	tftp := filepath.Join(labDir, "tftp-"+ext)
	serve := func(name string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(tftp, "phoned.img"), images[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(tftp, 0o755); err != nil {
		t.Fatal(err)
	}
	serve("other-key")
	con := &qemu.Console{}
	var trace struct {
		sync.Mutex
		agents []string // User-Agent of each REGISTER, in order
	}
	l, err := Start(ctx, Options{
		Board: QEMU, Exts: []string{ext}, Dir: labDir, Logf: t.Logf, Console: con,
		Version: "1.0.0", Disk: true,
		PhoneConfig: map[string]string{ext: fwConfig(pub, 2, 60)},
		Trace: func(e pbx.Entry) {
			if e.Dir == "in" && e.Request && e.Method == "REGISTER" {
				trace.Lock()
				trace.agents = append(trace.agents, header(e.Raw, "User-Agent"))
				trace.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		l.Close()
		if t.Failed() {
			t.Logf("console:\n%s", con.String())
		}
	}()
	ph := l.Phones[0]
	setConfig := func(tries, confirm int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(tftp, MACFile(ph.qp.MAC)), []byte(ownPart(l, ext)+fwConfig(pub, tries, confirm)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mark := 0
	// expect waits for each of wants on the console, in order, after mark;
	// then mark moves past the last.
	expect := func(what string, wants ...string) {
		t.Helper()
		start := time.Now()
		for {
			s := strings.ReplaceAll(con.String(), "\r", "")
			at, ok := mark, true
			for _, w := range wants {
				i := strings.Index(s[min(at, len(s)):], w)
				if i < 0 {
					ok = false
					break
				}
				at += i + len(w)
			}
			if ok {
				mark = at
				t.Logf("%s: seen after %.1f s", what, time.Since(start).Seconds())
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: the console never showed, in order, %q", what, wants)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	cycle := func() {
		t.Helper()
		if err := l.PowerCycle(ctx, ph); err != nil {
			t.Fatal(err)
		}
	}
	caseStart := time.Now()
	done := func(name string) {
		t.Logf("case %s: %.1f s", name, time.Since(caseStart).Seconds())
		caseStart = time.Now()
	}

	// 1. Another key's image: refused at its header, nothing written.
	expect("bad signature",
		"deskphone 1.0.0 on board qemu", "line 1 registered",
		"firmware: update: bad signature: image 2.0.0 is not signed by the trusted key; the phone keeps 1.0.0")
	done("bad signature")

	// 2. A crash at start: two tries, then back to the factory image.
	serve("crash")
	cycle()
	expect("crash",
		"deskphone 1.0.0 on board qemu", "line 1 registered",
		"firmware: 1.1.0 written to slot A and read back", "firmware: restarting into 1.1.0",
		"firmware: starting 1.1.0 from slot A, unconfirmed", "crashfw: starting, and crashing", "exit status 3",
		"firmware: starting 1.1.0 from slot A, unconfirmed", "crashfw: starting, and crashing", "exit status 3",
		"firmware: update to 1.1.0 failed, rolled back to 1.0.0 (factory)",
		"line 1 registered", "1.1.0 failed on this phone before")
	dctx, dcancel := context.WithTimeout(ctx, 20*time.Second)
	if _, err := ph.Panel.WaitAfter(dctx, 0, regexp.MustCompile(`^display 1 update to 1\.1\.0 failed, rolled back to 1\.0\.0 \(factory\)$`)); err != nil {
		t.Errorf("the display does not say so: %v", err)
	}
	dcancel()
	if st, err := ph.Panel.Status(ctx); err != nil || !strings.Contains(st, "reg=1:registered") {
		t.Errorf("status after the rollback: %q %v", st, err)
	}
	done("crash")

	// 3. Never registers: stopped at its deadline (10 s, one try).
	setConfig(1, 10)
	serve("hang")
	cycle()
	expect("never registers",
		"deskphone 1.0.0 on board qemu", "line 1 registered",
		"firmware: restarting into 1.2.0",
		"firmware: starting 1.2.0 from slot A, unconfirmed: 10 s to register", "hangfw: started",
		"firmware: 1.2.0 in slot A did not register within 10 s; stopping it", "killed by signal 9",
		"firmware: update to 1.2.0 failed, rolled back to 1.0.0 (factory)",
		"line 1 registered")
	done("never registers")

	// 4. The good image, QEMU killed while slot A is written; then again.
	setConfig(2, 60)
	serve("good")
	cycle()
	expect("writing", "deskphone 1.0.0 on board qemu", "line 1 registered", "firmware: writing 1.3.0 to slot A: ")
	cycle() // the plug, pulled mid-write
	expect("after the power cut",
		"deskphone 1.0.0 on board qemu", "line 1 registered",
		"firmware: 1.3.0 written to slot A and read back", "firmware: restarting into 1.3.0",
		"firmware: starting 1.3.0 from slot A, unconfirmed",
		"deskphone 1.3.0 on board qemu", "line 1 registered", "firmware: 1.3.0 in slot A confirmed")
	lastAgent := func(want string) {
		t.Helper()
		trace.Lock()
		defer trace.Unlock()
		if last := trace.agents[len(trace.agents)-1]; last != want {
			t.Errorf("the last REGISTER says User-Agent %q, want %s", last, want)
		}
	}
	lastAgent("deskphone/1.3.0")
	done("power cut mid-write, then good")

	// 5. From a slot to the other: 1.3.0 in A installs 1.4.0 into B and
	// exits; the boot loader starts B, which registers. A power-on after
	// boots B again, confirmed.
	serve("next")
	cycle()
	expect("A to B",
		"firmware: starting 1.3.0 from slot A\n", "deskphone 1.3.0 on board qemu", "line 1 registered",
		"firmware: 1.4.0 written to slot B and read back", "firmware: restarting into 1.4.0",
		"firmware: 1.3.0 in slot A ended: exit status 0",
		"firmware: starting 1.4.0 from slot B, unconfirmed",
		"deskphone 1.4.0 on board qemu", "line 1 registered", "firmware: 1.4.0 in slot B confirmed")
	lastAgent("deskphone/1.4.0")
	done("slot A to slot B")
}

// versionFlag is the version a test image's binary is built with: phoned
// reports its own; the tiny programs have none.
func versionFlag(pkg, v string) string {
	if strings.HasSuffix(pkg, "/phoned") {
		return v
	}
	return ""
}

// fwConfig is the firmware part of the phone's own file.
func fwConfig(pub string, tries, confirm int) string {
	return fmt.Sprintf("firmware.url = phoned.img\nfirmware.public_key = %s\nfirmware.tries = %d\nfirmware.confirm_seconds = %d\n", pub, tries, confirm)
}

// ownPart is the phone's own file without PhoneConfig's lines.
func ownPart(l *Lab, ext string) string {
	return strings.TrimSuffix(l.ownConfig(ext), l.opts.PhoneConfig[ext])
}

// header is the value of a SIP header in a raw message ("" when absent).
func header(raw []byte, name string) string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
