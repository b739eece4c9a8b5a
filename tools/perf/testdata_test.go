package perf

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestTestdataTools: the measuring commands under testdata, which no
// package imports (README and DESIGN.md cite their output), still build;
// phase reads a sched_switch trace as `perf script -F
// cpu,pid,tid,time,trace` prints it: two processes' runs, 2 ms apart in
// the frame.
func TestTestdataTools(t *testing.T) {
	goBin := testtool.Go(t)
	dir := t.TempDir()
	for _, tool := range []string{"residency", "sizeclasses", "phase"} {
		out, err := exec.Command(goBin, "build", "-o", filepath.Join(dir, tool), "./testdata/"+tool).CombinedOutput()
		if err != nil {
			t.Fatalf("building testdata/%s: %v\n%s", tool, err, out)
		}
	}
	var trace strings.Builder
	run := func(pid, tid int, cpu int, at, d float64) {
		fmt.Fprintf(&trace, "    0/0     [%03d]  %.6f: prev_comm=swapper/%d prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=phoned-host next_pid=%d next_prio=120\n", cpu, at, cpu, tid)
		fmt.Fprintf(&trace, "%d/%d   [%03d]  %.6f: prev_comm=phoned-host prev_pid=%d prev_prio=120 prev_state=S ==> next_comm=swapper/%d next_pid=0 next_prio=120\n", pid, tid, cpu, at+d, tid, cpu)
	}
	for k := range 50 {
		frame := 1000 + float64(k)*0.020
		run(100, 101, 0, frame+0.0063, 0.000110) // the caller: 110 us, 6 ms into the frame
		run(200, 202, 0, frame+0.0085, 0.000070) // the callee: 70 us, 2 ms later
	}
	fmt.Fprintf(&trace, "    0/0     [001]  1000.999000: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=kamailio next_pid=300 next_prio=120\n")
	fmt.Fprintf(&trace, "300/300   [001]  1001.000000: prev_comm=kamailio prev_pid=300 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120\n")
	cmd := exec.Command(filepath.Join(dir, "phase"))
	cmd.Stdin = strings.NewReader(trace.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("phase: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"100          50       5.5        110     110 0:50             6: 100%",
		"200          50       3.5         70      70 0:50             8: 100%",
		"200's runs start 2 ms after 100's (18 ms before them)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("phase's output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "300") {
		t.Errorf("phase counted a process of another name:\n%s", got)
	}
}
