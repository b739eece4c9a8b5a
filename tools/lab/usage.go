package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Usage is what a process has cost the machine so far, read from Linux's
// /proc: the context switches of all its threads (voluntary and not: each
// is a wake-up or a preemption) and its CPU time.
type Usage struct {
	At        time.Time
	Switches  int64         // sum over /proc/PID/task/*/status of voluntary_ctxt_switches + nonvoluntary_ctxt_switches
	Preempted int64         // of Switches, the nonvoluntary ones (the machine's other load)
	Ticks     int64         // /proc/PID/stat utime + stime, clock ticks (USER_HZ, 100/s)
	Run       time.Duration // sum over /proc/PID/task/*/schedstat of the time on a CPU (ns resolution)
	// Tasks are the switches of each thread, by thread id.
	Tasks map[int]int64
}

// ProcUsage reads the usage of process pid (Linux only).
func ProcUsage(pid int) (Usage, error) {
	u := Usage{At: time.Now(), Tasks: map[int]int64{}}
	dir := fmt.Sprintf("/proc/%d", pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return u, fmt.Errorf("lab: usage: %w", err)
	}
	// The fields after the command's closing parenthesis: state is field
	// 3, utime 14, stime 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return u, errors.New("lab: usage: bad /proc stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return u, errors.New("lab: usage: short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	u.Ticks = ut + st
	tasks, err := os.ReadDir(dir + "/task")
	if err != nil {
		return u, fmt.Errorf("lab: usage: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "task", t.Name(), "status"))
		if err != nil {
			continue // the thread exited
		}
		var n int64
		for _, l := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += x
				if k[0] == 'n' {
					u.Preempted += x
				}
			}
		}
		u.Tasks[tid] = n
		u.Switches += n
		if b, err := os.ReadFile(filepath.Join(dir, "task", t.Name(), "schedstat")); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				u.Run += time.Duration(ns)
			}
		}
	}
	return u, nil
}

// Usage reads the usage of a sim phone's phoned process.
func (ph *Phone) Usage() (Usage, error) {
	if ph.cmd == nil || ph.cmd.Process == nil {
		return Usage{}, errors.New("lab: usage: only sim phones are host processes")
	}
	return ProcUsage(ph.cmd.Process.Pid)
}

// Cost is the usage of a process between two readings.
type Cost struct {
	Took      time.Duration
	Switches  int64
	Preempted int64
	Ticks     int64
	Run       time.Duration
	// Tasks are the switches per thread in the interval, busiest first,
	// as "tid:n".
	Tasks []string
}

// Since is the cost from an earlier reading to u.
func (u Usage) Since(from Usage) Cost {
	c := Cost{Took: u.At.Sub(from.At), Switches: u.Switches - from.Switches, Preempted: u.Preempted - from.Preempted,
		Ticks: u.Ticks - from.Ticks, Run: u.Run - from.Run}
	type tn struct {
		tid int
		n   int64
	}
	var ts []tn
	for tid, n := range u.Tasks {
		if d := n - from.Tasks[tid]; d > 0 {
			ts = append(ts, tn{tid, d})
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].n > ts[j].n })
	for _, t := range ts {
		c.Tasks = append(c.Tasks, fmt.Sprintf("%d:%d", t.tid, t.n))
	}
	return c
}

// PerSecond is the context switches per second.
func (c Cost) PerSecond() float64 { return float64(c.Switches) / c.Took.Seconds() }

// PerFrame is the context switches per 20 ms frame.
func (c Cost) PerFrame() float64 { return c.PerSecond() / 50 }

// CPUPerSecond is the CPU time per second of the interval, from schedstat.
func (c Cost) CPUPerSecond() time.Duration {
	return time.Duration(float64(c.Run) / c.Took.Seconds())
}

// StatCPUPerSecond is the CPU time per second from /proc/PID/stat's
// utime+stime (10 ms ticks: coarse over short intervals).
func (c Cost) StatCPUPerSecond() time.Duration {
	return time.Duration(float64(c.Ticks) * float64(10*time.Millisecond) / c.Took.Seconds())
}

func (c Cost) String() string {
	return fmt.Sprintf("%.1f s: %d switches, %d of them preemptions (%.1f/s, %.2f per 20 ms frame), CPU %.2f ms/s (schedstat), %.1f ms/s (stat ticks); threads %s",
		c.Took.Seconds(), c.Switches, c.Preempted, c.PerSecond(), c.PerFrame(),
		float64(c.CPUPerSecond())/float64(time.Millisecond), float64(c.StatCPUPerSecond())/float64(time.Millisecond),
		strings.Join(c.Tasks, " "))
}
