package lab

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/panelclient"
)

// needQEMU skips without qemu-system-aarch64, except in CI (testtool.Need).
func needQEMU(t *testing.T) {
	t.Helper()
	testtool.Need(t, "qemu-system-aarch64")
}

func runBasicCall(t *testing.T, board Board, boot time.Duration, panelRate ...int) {
	testtool.Long(t, "make e2e")
	ctx, cancel := context.WithTimeout(context.Background(), boot+60*time.Second)
	defer cancel()
	l, err := Start(ctx, Options{Board: board, Exts: []string{"1001", "1002"}, Dir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		l.Close()
		if t.Failed() {
			l.LogConsoles(t.Logf)
		}
	}()
	regCtx, cancelReg := context.WithTimeout(ctx, boot)
	took, err := l.WaitRegistered(regCtx)
	cancelReg()
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range panelRate { // the panels' audio at this rate (panel/3)
		for _, ph := range l.Phones {
			if err := ph.Panel.SetRate(ctx, rate); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := l.BasicCall(ctx, l.Phones[0], l.Phones[1], func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	r.BootToRegistered = took
	t.Logf("ladder:\n%s", r.FormatLadder())
	t.Logf("summary:\n%s", r.Summary())
	if err := r.OK(); err != nil {
		t.Fatal(err)
	}
	if len(panelRate) > 0 { // and the call was G.722 (each phone's log)
		for _, ph := range l.Phones {
			if c, _ := l.ConsoleLog(ph.Ext); !strings.Contains(string(c), "audio G722 to ") {
				t.Errorf("%s's log has no G722 stream", ph.Ext)
			}
		}
	}
}

// TestBasicCallQEMU is the walking skeleton end to end: two phones boot in
// QEMU, provision over TFTP, register with the development PBX, and 1001
// calls 1002 with audio both ways.
func TestBasicCallQEMU(t *testing.T) {
	needQEMU(t)
	runBasicCall(t, QEMU, 90*time.Second)
}

// TestBasicCallSim is the same call between two phoned processes on the
// host (the sim board).
func TestBasicCallSim(t *testing.T) {
	runBasicCall(t, Sim, 20*time.Second)
}

// TestBasicCallSimWideband is that call with both panels' audio at 16000
// (panel/3): G.722 (the phones' first codec) from microphone to earpiece
// without a narrowband step.
func TestBasicCallSimWideband(t *testing.T) {
	runBasicCall(t, Sim, 20*time.Second, panelclient.WideRate)
}
