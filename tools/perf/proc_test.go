package perf

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

func TestCPUTicks(t *testing.T) {
	// A command name with spaces and a parenthesis; utime 1234, stime 56,
	// cutime 7, cstime 3.
	line := "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 500 0 0 0 1234 56 7 3 20 0 9 0 100 8000000 2000 18446744073709551615\n"
	n, c, err := cpuTicks([]byte(line))
	if err != nil || n != 1290 || c != 10 {
		t.Fatalf("cpuTicks = %d, %d, %v; want 1290, 10", n, c, err)
	}
	if _, _, err := cpuTicks([]byte("4242 (x) S 1 2")); err == nil {
		t.Fatal("a short stat line parsed")
	}
}

func TestStatusFields(t *testing.T) {
	f := statusFields([]byte("Name:\tphoned\nVmHWM:\t    9000 kB\nVmRSS:\t    8000 kB\nThreads:\t9\nvoluntary_ctxt_switches:\t12\n"))
	if f["Name"] != "phoned" || kb(f["VmRSS"]) != 8000 || kb(f["VmHWM"]) != 9000 || f["Threads"] != "9" || f["voluntary_ctxt_switches"] != "12" {
		t.Fatalf("fields %q", f)
	}
}

func TestDiff(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := Sample{At: t0, CPUTicks: 100, Tasks: map[int]Task{
		1: {Name: "p", Voluntary: 10, Involuntary: 1, RunNS: 1e6},
		2: {Name: "p", Voluntary: 5},
		3: {Name: "p"}, // exits
	}}
	b := Sample{At: t0.Add(2 * time.Second), RSSKB: 8000, HWMKB: 9000, Threads: 3, CPUTicks: 104, Tasks: map[int]Task{
		1: {Name: "p", Voluntary: 110, Involuntary: 11, RunNS: 5e6},
		2: {Name: "p", Voluntary: 5},
		4: {Name: "p", Voluntary: 90, RunNS: 2e6}, // new
	}}
	f := Diff(a, b)
	if f.Seconds != 2 || f.RSSKB != 8000 || f.HWMKB != 9000 || f.Threads != 3 {
		t.Fatalf("%+v", f)
	}
	// 4 ticks of 10 ms in 2 s; (100+10+90) switches in 2 s; 6 ms on CPU in 2 s.
	if f.CPUMSPerSec != 20 || f.WakeupsPerSec != 100 || f.VoluntaryPerSec != 95 || f.InvoluntaryPerSec != 5 ||
		f.WakeupsPerFrame != 2 || f.SchedMSPerSec != 3 || f.ExitedThreads != 1 {
		t.Fatalf("%+v", f)
	}
	if len(f.PerThread) != 3 || f.PerThread[0].TID != 1 || f.PerThread[0].WakeupsPerSec != 55 ||
		f.PerThread[1].TID != 4 || !f.PerThread[1].New || f.PerThread[2].WakeupsPerSec != 0 {
		t.Fatalf("per thread %+v", f.PerThread)
	}
}

// TestReadSampleSelf reads this test's own process.
func TestReadSampleSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		testtool.Missing(t, "/proc (Linux only): %v", err)
	}
	s, err := ReadSample(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKB <= 0 || s.HWMKB < s.RSSKB || s.Threads < 1 || len(s.Tasks) < 1 || s.CPUTicks < 0 {
		t.Fatalf("%+v", s)
	}
	for tid, task := range s.Tasks {
		if task.Voluntary+task.Involuntary <= 0 && tid == os.Getpid() {
			t.Errorf("main thread %d: no context switches: %+v", tid, task)
		}
	}
}

// TestClearRefsSelf: after ClearRefs, Referenced counts what the process
// uses from then on: 8 MiB written shows, and never more than is resident.
func TestClearRefsSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		testtool.Missing(t, "/proc/PID/smaps_rollup (Linux 4.14 or later): %v", err)
	}
	if err := ClearRefs(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	a, err := ReadSample(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	b, err := ReadSample(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// The bound is smaps_rollup's own Rss, from the same walk of the page
	// tables: VmRSS is the kernel's running count, which may lag it.
	roll, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	rss := kb(statusFields(roll)["Rss"])
	if a.ReferencedKB < 0 || b.ReferencedKB < a.ReferencedKB+6<<10 || b.ReferencedKB > rss {
		t.Fatalf("referenced %d KB after the clear, %d KB after writing 8 MiB (Rss %d KB)", a.ReferencedKB, b.ReferencedKB, rss)
	}
	if f := Diff(a, b); f.WorkingKB != b.ReferencedKB {
		t.Fatalf("Diff's WorkingKB %d, want %d", f.WorkingKB, b.ReferencedKB)
	}
	runtime.KeepAlive(buf)
}
