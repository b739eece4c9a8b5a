// Command phase says when in the 20 ms frame each phone's audio thread
// runs and how long each run takes, beside README's "The whole phone
// against baresip": two phones on one machine whose frames start a
// moment apart on the same processor share warm caches (the same binary's
// code, the kernel's paths), and the second one's runs are the cheaper.
// It reads the text of a sched_switch trace (linux-perf) from its input:
// every stretch a thread of a process whose command starts with -comm
// was on a processor, from its switch in to its switch out. Run it on a
// trace of a call, e.g. while `go run ./tools/cmd/perf -call 60s` holds
// both:
//
//	perf record -e sched:sched_switch -a -o sw.data -- sleep 5
//	perf script -i sw.data -F cpu,pid,tid,time,trace | go run ./tools/perf/testdata/phase
//
// For each process: its runs, their CPU time, median and 90th percentile,
// the processors they ran on, and the phase: the millisecond of the frame
// (start time modulo -period) most of its runs start in. Then each pair's
// distance in the frame, their modal phases apart.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"time"
)

func main() {
	comm := flag.String("comm", "phoned", "the processes: their threads' command starts with this")
	period := flag.Duration("period", 20*time.Millisecond, "the frame")
	flag.Parse()
	procs, err := read(os.Stdin, *comm)
	if err != nil {
		fmt.Fprintln(os.Stderr, "phase:", err)
		os.Exit(1)
	}
	if len(procs) == 0 {
		fmt.Fprintf(os.Stderr, "phase: no run of a thread named %s* in the trace\n", *comm)
		os.Exit(1)
	}
	report(os.Stdout, procs, *period)
}

// run is one stretch of a thread on a processor.
type run struct {
	start time.Duration // trace time
	d     time.Duration
	cpu   int
}

// proc is a process's runs, by its thread group id.
type proc struct {
	pid  int
	runs []run
}

// A line of `perf script -F cpu,pid,tid,time,trace` for sched_switch:
// "pid/tid [cpu] secs: prev_comm=... prev_pid=N ... ==> next_comm=... next_pid=M ...".
var line = regexp.MustCompile(`^\s*(\d+)/(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d+):.*prev_comm=(.+?) prev_pid=(\d+) .*next_pid=(\d+) `)

// read collects the runs of the matching processes' threads. A switch's
// sample names the thread leaving (pid/tid), which is how a thread id
// maps to its process.
func read(r io.Reader, comm string) ([]*proc, error) {
	type on struct {
		tid int
		at  time.Duration
	}
	cur := map[int]on{} // by processor: who is on it since when
	byPid := map[int]*proc{}
	var order []*proc
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		cpu, _ := strconv.Atoi(m[3])
		secs, _ := strconv.ParseInt(m[4], 10, 64)
		frac := m[5]
		ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		at := time.Duration(secs)*time.Second + time.Duration(ns)
		prevComm := m[6]
		prev, _ := strconv.Atoi(m[7])
		next, _ := strconv.Atoi(m[8])
		if c, ok := cur[cpu]; ok && c.tid == prev && len(prevComm) >= len(comm) && prevComm[:len(comm)] == comm {
			p := byPid[pid]
			if p == nil {
				p = &proc{pid: pid}
				byPid[pid] = p
				order = append(order, p)
			}
			p.runs = append(p.runs, run{start: c.at, d: at - c.at, cpu: cpu})
		}
		cur[cpu] = on{tid: next, at: at}
	}
	return order, sc.Err()
}

// report prints each process's runs and phase, then the pairs' distance.
func report(w io.Writer, procs []*proc, period time.Duration) {
	slices.SortFunc(procs, func(a, b *proc) int { return a.pid - b.pid })
	ms := int(period / time.Millisecond)
	phases := make([]int, len(procs))
	fmt.Fprintf(w, "%-8s %6s %9s %10s %7s %-16s %s\n", "pid", "runs", "cpu ms", "median us", "p90 us", "processors", "phase (ms of the frame: share of its runs)")
	for i, p := range procs {
		var total time.Duration
		ds := make([]time.Duration, 0, len(p.runs))
		cpus := map[int]int{}
		bins := make([]int, ms)
		for _, r := range p.runs {
			total += r.d
			ds = append(ds, r.d)
			cpus[r.cpu]++
			bins[int((r.start%period)/time.Millisecond)%ms]++
		}
		slices.Sort(ds)
		best := 0
		for b := range bins {
			if bins[b] > bins[best] {
				best = b
			}
		}
		phases[i] = best
		var on string
		keys := make([]int, 0, len(cpus))
		for c := range cpus {
			keys = append(keys, c)
		}
		slices.Sort(keys)
		for _, c := range keys {
			on += fmt.Sprintf("%d:%d ", c, cpus[c])
		}
		fmt.Fprintf(w, "%-8d %6d %9.1f %10.0f %7.0f %-16s %d: %.0f%%\n", p.pid, len(p.runs), ms64(total),
			us(ds[len(ds)/2]), us(ds[len(ds)*9/10]), on, best, 100*float64(bins[best])/float64(len(p.runs)))
	}
	for i := range procs {
		for j := i + 1; j < len(procs); j++ {
			d := (phases[j] - phases[i] + ms) % ms
			fmt.Fprintf(w, "%d's runs start %d ms after %d's (%d ms before them)\n", procs[j].pid, d, procs[i].pid, (ms-d)%ms)
		}
	}
}

func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64   { return float64(d) / float64(time.Microsecond) }
