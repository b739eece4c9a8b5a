package perf

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture the project runs on (sysconf(_SC_CLK_TCK), which
// needs cgo to ask).
const userHZ = 100

// Sample is what /proc says about one process at one moment.
type Sample struct {
	At    time.Time
	RSSKB int64 // VmRSS, /proc/PID/status
	HWMKB int64 // VmHWM: the most resident it has been since it started
	// AnonKB and FileKB split VmRSS (RssAnon, RssFile; RssShmem is the
	// rest): heap and stacks, and pages of the binary and its libraries.
	AnonKB, FileKB int64
	Threads        int   // Threads, /proc/PID/status
	CPUTicks       int64 // utime+stime, /proc/PID/stat, in 1/userHZ s: every thread, exited ones included
	// ChildTicks is cutime+cstime, /proc/PID/stat: the CPU of the children
	// it has waited for (in.tftpd's transfers, each a child of its own).
	ChildTicks int64
	// Tasks are the live threads, by thread ID (/proc/PID/task/TID).
	Tasks map[int]Task
	// ReferencedKB is Referenced of /proc/PID/smaps_rollup: the resident
	// pages used since ClearRefs (or since they were mapped), -1 when it
	// cannot be read.
	ReferencedKB int64
}

// Task is one thread's counters.
type Task struct {
	Name string // Name, /proc/PID/task/TID/status (the thread's comm)
	// Voluntary and Involuntary context switches (voluntary_ctxt_switches,
	// nonvoluntary_ctxt_switches): the thread gave up the CPU to wait, or
	// was put off it.
	Voluntary, Involuntary int64
	RunNS                  int64 // time on the CPU, first field of /proc/PID/task/TID/schedstat
	// In is the system call the thread was in when sampled
	// (/proc/PID/task/TID/syscall: "futex", "nanosleep", "epoll_pwait",
	// ...; "running", or "" when unknown): a hint of what the thread is,
	// e.g. Go's sysmon sleeps in nanosleep, idle Go threads in futex, the
	// network poller in epoll_pwait.
	In string
}

// syscallNames are the system calls threads of the measured processes
// wait in, by number, for the architectures the project runs on.
var syscallNames = map[string]map[int]string{
	"amd64": {0: "read", 1: "write", 7: "poll", 23: "select", 35: "nanosleep", 45: "recvfrom", 47: "recvmsg",
		202: "futex", 230: "clock_nanosleep", 232: "epoll_wait", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait"},
	"arm64": {22: "epoll_pwait", 63: "read", 64: "write", 72: "pselect6", 73: "ppoll", 98: "futex",
		101: "nanosleep", 115: "clock_nanosleep", 207: "recvfrom", 212: "recvmsg"},
}

// syscallIn reads /proc/PID/task/TID/syscall.
func syscallIn(taskDir string) string {
	b, err := os.ReadFile(filepath.Join(taskDir, "syscall"))
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return f[0] // "running"
	}
	if n < 0 {
		return "no syscall"
	}
	if name := syscallNames[runtime.GOARCH][n]; name != "" {
		return name
	}
	return "syscall " + f[0]
}

// ReadSample reads pid's Sample from /proc.
func ReadSample(pid int) (Sample, error) {
	s := Sample{At: time.Now(), Tasks: map[int]Task{}}
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	st, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return s, fmt.Errorf("perf: %w", err)
	}
	f := statusFields(st)
	s.RSSKB, s.HWMKB = kb(f["VmRSS"]), kb(f["VmHWM"])
	s.AnonKB, s.FileKB = kb(f["RssAnon"]), kb(f["RssFile"])
	s.Threads, _ = strconv.Atoi(f["Threads"])
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return s, fmt.Errorf("perf: %w", err)
	}
	if s.CPUTicks, s.ChildTicks, err = cpuTicks(stat); err != nil {
		return s, fmt.Errorf("perf: %s/stat: %w", dir, err)
	}
	tids, err := os.ReadDir(filepath.Join(dir, "task"))
	if err != nil {
		return s, fmt.Errorf("perf: %w", err)
	}
	for _, e := range tids {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		td := filepath.Join(dir, "task", e.Name())
		b, err := os.ReadFile(filepath.Join(td, "status"))
		if err != nil {
			continue // the thread exited between the listing and the read
		}
		f := statusFields(b)
		t := Task{Name: f["Name"]}
		t.Voluntary, _ = strconv.ParseInt(f["voluntary_ctxt_switches"], 10, 64)
		t.Involuntary, _ = strconv.ParseInt(f["nonvoluntary_ctxt_switches"], 10, 64)
		if b, err := os.ReadFile(filepath.Join(td, "schedstat")); err == nil {
			if fs := strings.Fields(string(b)); len(fs) > 0 {
				t.RunNS, _ = strconv.ParseInt(fs[0], 10, 64)
			}
		}
		t.In = syscallIn(td)
		s.Tasks[tid] = t
	}
	if s.RSSKB <= 0 || len(s.Tasks) == 0 {
		return s, fmt.Errorf("perf: %s: no VmRSS or no threads (a zombie?)", dir)
	}
	s.ReferencedKB = -1
	if b, err := os.ReadFile(filepath.Join(dir, "smaps_rollup")); err == nil {
		if v, ok := statusFields(b)["Referenced"]; ok {
			s.ReferencedKB = kb(v)
		}
	}
	return s, nil
}

// ClearRefs clears the referenced bits of pid's pages (/proc/PID/clear_refs,
// "1"): from then on smaps' Referenced counts only the pages the process
// uses, its working set, where VmRSS also counts every page it once
// touched and the kernel has not taken back.
func ClearRefs(pid int) error {
	if err := os.WriteFile(filepath.Join("/proc", strconv.Itoa(pid), "clear_refs"), []byte("1"), 0); err != nil {
		return fmt.Errorf("perf: %w", err)
	}
	return nil
}

// statusFields splits a /proc status file into its "Key:\tvalue" lines.
func statusFields(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// kb reads "7464 kB".
func kb(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	return n
}

// cpuTicks returns utime+stime (fields 14 and 15) and cutime+cstime (16
// and 17) of a /proc/PID/stat line; the command name (field 2) may hold
// spaces and parentheses, so the fields are counted from its last ')'.
func cpuTicks(stat []byte) (own, children int64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state): utime is field 14, stime 15.
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("%d fields", len(f)+2)
	}
	var v [4]int64
	for j := range v {
		if v[j], err = strconv.ParseInt(f[11+j], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("field %d %q", 14+j, f[11+j])
		}
	}
	return v[0] + v[1], v[2] + v[3], nil
}

// PPID is the parent process ID of pid (field 4 of /proc/PID/stat).
func PPID(pid int) (int, error) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("perf: %w", err)
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("perf: /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0, fmt.Errorf("perf: /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return strconv.Atoi(f[1])
}

// Children returns the process IDs whose parent is pid (Kamailio's
// workers, which the main process forks), from a scan of /proc.
func Children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, err := PPID(c); err == nil && pp == pid {
			out = append(out, c)
		}
	}
	sort.Ints(out)
	return out
}

// Figures are one process's figures over a window: the difference of two
// Samples, per second of the window.
type Figures struct {
	Seconds float64 `json:"seconds"` // the window
	RSSKB   int64   `json:"rss_kb"`  // VmRSS at the window's end
	HWMKB   int64   `json:"hwm_kb"`  // VmHWM at the window's end
	AnonKB  int64   `json:"anon_kb"` // RssAnon at the window's end
	FileKB  int64   `json:"file_kb"` // RssFile at the window's end
	// WorkingKB is what the process used over the window: its pages
	// referenced between ClearRefs at the window's start and its end
	// (Sample.ReferencedKB), -1 when not read.
	WorkingKB int64 `json:"working_kb"`
	Threads   int   `json:"threads"` // at the window's end
	// CPUMSPerSec is utime+stime over the window, ms per second: 10 is 1%
	// of one core. Counted in 10 ms ticks, so over a few seconds it is
	// coarse; SchedMSPerSec is the same from the scheduler's nanoseconds.
	CPUMSPerSec   float64 `json:"cpu_ms_per_s"`
	SchedMSPerSec float64 `json:"sched_ms_per_s"`
	// WakeupsPerSec is every thread's context switches (voluntary and
	// involuntary) per second: how often the process was put on a CPU.
	WakeupsPerSec     float64 `json:"wakeups_per_s"`
	VoluntaryPerSec   float64 `json:"voluntary_per_s"`
	InvoluntaryPerSec float64 `json:"involuntary_per_s"`
	// WakeupsPerFrame is WakeupsPerSec per 20 ms frame (divided by 50).
	WakeupsPerFrame float64 `json:"wakeups_per_frame"`
	// ExitedThreads is how many threads of the first Sample were gone at
	// the end: their context switches in the window are not counted.
	ExitedThreads int `json:"exited_threads,omitempty"`
	// PerThread is each thread's share, most wake-ups first.
	PerThread []ThreadFigures `json:"per_thread"`
}

// ThreadFigures are one thread's figures over a window.
type ThreadFigures struct {
	TID           int     `json:"tid"`
	Name          string  `json:"name"`
	In            string  `json:"in,omitempty"` // Task.In at the window's end
	WakeupsPerSec float64 `json:"wakeups_per_s"`
	SchedMSPerSec float64 `json:"sched_ms_per_s"`
	New           bool    `json:"new,omitempty"` // started during the window
}

// framesPerSec is the 20 ms frames of a second.
const framesPerSec = 50

// Diff returns the figures of the window from a to b (b later, the same
// process). A thread that started during the window counts from zero.
// WorkingKB is b's ReferencedKB: a working set only if the window began
// with ClearRefs.
func Diff(a, b Sample) Figures {
	sec := b.At.Sub(a.At).Seconds()
	f := Figures{Seconds: sec, RSSKB: b.RSSKB, HWMKB: b.HWMKB, AnonKB: b.AnonKB, FileKB: b.FileKB, Threads: b.Threads,
		WorkingKB: b.ReferencedKB}
	if sec <= 0 {
		return f
	}
	f.CPUMSPerSec = float64(b.CPUTicks-a.CPUTicks) * (1000 / userHZ) / sec
	var vol, invol, run int64
	for tid, tb := range b.Tasks {
		ta, old := a.Tasks[tid]
		dv, di, dr := tb.Voluntary-ta.Voluntary, tb.Involuntary-ta.Involuntary, tb.RunNS-ta.RunNS
		vol, invol, run = vol+dv, invol+di, run+dr
		f.PerThread = append(f.PerThread, ThreadFigures{TID: tid, Name: tb.Name, In: tb.In,
			WakeupsPerSec: float64(dv+di) / sec, SchedMSPerSec: float64(dr) / 1e6 / sec, New: !old})
	}
	for tid := range a.Tasks {
		if _, ok := b.Tasks[tid]; !ok {
			f.ExitedThreads++
		}
	}
	sort.Slice(f.PerThread, func(i, j int) bool {
		if f.PerThread[i].WakeupsPerSec != f.PerThread[j].WakeupsPerSec {
			return f.PerThread[i].WakeupsPerSec > f.PerThread[j].WakeupsPerSec
		}
		return f.PerThread[i].TID < f.PerThread[j].TID
	})
	f.VoluntaryPerSec, f.InvoluntaryPerSec = float64(vol)/sec, float64(invol)/sec
	f.WakeupsPerSec = float64(vol+invol) / sec
	f.WakeupsPerFrame = f.WakeupsPerSec / framesPerSec
	f.SchedMSPerSec = float64(run) / 1e6 / sec
	return f
}

// LoadAvg returns /proc/loadavg's three load averages and the number of
// CPUs, e.g. "load average 0.52 0.61 0.70, 2 CPUs".
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load average unknown"
	}
	return fmt.Sprintf("load average %s %s %s, %d CPUs", f[0], f[1], f[2], runtime.NumCPU())
}
