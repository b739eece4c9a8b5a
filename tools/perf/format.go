package perf

import (
	"fmt"
	"io"
	"strings"
)

// Format writes the report as tables: the call window, the ratios, the
// idle window; with threads, each process's threads under it.
func (r *Report) Format(w io.Writer, threads bool) {
	fmt.Fprintf(w, "deskphone perf: the whole phone against baresip, G.711 at 20 ms, both pairs through the development PBX on 127.0.0.1\n")
	fmt.Fprintf(w, "call window %.1f s (both calls up), idle window %.1f s (registered, on hook); the phones' sound card: %s\n", r.CallSeconds, r.IdleSeconds, r.SoundCard)
	fmt.Fprintf(w, "before: %s; after the call window: %s\n\n", r.LoadBefore, r.LoadAfter)
	for _, p := range r.Pairs {
		ans := "answered"
		if !p.Answered {
			ans = "NOT ANSWERED"
		}
		media := p.Media
		if !p.MediaOK {
			media = "NO AUDIO BOTH WAYS: " + media
		}
		fmt.Fprintf(w, "%-7s %s->%s: %s at the PBX (200 OK, ACK), %s; %s\n", p.Name, p.Caller, p.Callee, ans, p.Codec, media)
	}
	fmt.Fprintln(w)

	head := func(title string) {
		fmt.Fprintf(w, "%-28s %7s %7s %6s %6s %7s %7s %7s %8s %10s %10s %9s\n", title, "pid", "rss MB", "anon", "file", "used MB", "hwm MB", "threads", "cpu ms/s", "sched ms/s", "wake-ups/s", "per frame")
	}
	row := func(name string, pid int, f Figures) {
		fmt.Fprintf(w, "%-28s %7d %7.2f %6.2f %6.2f %7.2f %7.2f %7d %8.1f %10.2f %10.1f %9.2f\n", name, pid,
			mb(f.RSSKB), mb(f.AnonKB), mb(f.FileKB), mb(f.WorkingKB), mb(f.HWMKB), f.Threads, f.CPUMSPerSec, f.SchedMSPerSec, f.WakeupsPerSec, f.WakeupsPerFrame)
		if threads {
			for _, t := range f.PerThread {
				n := t.Name
				if t.In != "" {
					n += " " + t.In
				}
				if t.New {
					n += " (new)"
				}
				fmt.Fprintf(w, "  %-26s %7d %7s %6s %6s %7s %7s %7s %8s %10.2f %10.1f %9.2f\n", n, t.TID, "", "", "", "", "", "", "",
					t.SchedMSPerSec, t.WakeupsPerSec, t.WakeupsPerSec/framesPerSec)
			}
		}
	}
	head("in the call")
	for _, p := range r.Procs {
		row(p.Name+" "+p.Ext+" "+p.Role, p.PID, p.Call)
	}
	for _, q := range r.Ratios {
		fmt.Fprintf(w, "%-28s %7s %7s %6s %6s %7s %7s %7s %8s %10s %10s %9s\n", "phoned/baresip "+q.Role, "",
			x(q.RSS), x(q.Anon), x(q.File), x(q.Working), x(q.HWM), x(q.Threads), x(q.CPU), x(q.Sched), x(q.Wakeups), x(q.Wakeups))
	}
	fmt.Fprintln(w)
	head("idle, on hook")
	for _, p := range r.Procs {
		row(p.Name+" "+p.Ext, p.PID, p.Idle)
	}
	for _, q := range r.Ratios {
		fmt.Fprintf(w, "%-28s %7s %7s %6s %6s %7s %7s %7s %8s %10s %10s %9s\n", "phoned/baresip "+q.Role, "",
			"", "", "", "", "", "", x(q.IdleCPU), x(q.IdleSched), x(q.IdleWakeups), x(q.IdleWakeups))
	}
	var exited []string
	for _, p := range r.Procs {
		if n := p.Call.ExitedThreads + p.Idle.ExitedThreads; n > 0 {
			exited = append(exited, fmt.Sprintf("%s %s: %d", p.Name, p.Ext, n))
		}
	}
	if len(exited) > 0 {
		fmt.Fprintf(w, "\nthreads that exited during a window (their wake-ups are not counted): %s\n", strings.Join(exited, ", "))
	}
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

// x prints a ratio, "-" where it is undefined.
func x(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}
