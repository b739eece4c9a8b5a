// Command perf is `make perf`: the whole phone against baresip. It starts
// the development PBX, two sim-board phones and two baresips, measures
// them registered and idle, puts each pair in a G.711 call (phoned 1001 to
// 1002, baresip 1003 to 1004, audio both ways), measures both calls over
// the same window and prints each process's memory, CPU time, wake-ups
// and threads from /proc, and phoned's figures over baresip's
// (tools/perf).
//
//	perf                    # 25 s of call, 5 s idle
//	perf -call 60s -threads # longer, with each thread's share
//	perf -json              # the report as JSON
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"os"

	"github.com/deskphone/deskphone/tools/perf"
)

func main() {
	o := perf.Options{}
	flag.DurationVar(&o.Call, "call", perf.DefaultCall, "how long both calls are measured")
	flag.DurationVar(&o.Idle, "idle", perf.DefaultIdle, "how long the registered, idle processes are measured before the calls")
	flag.DurationVar(&o.Settle, "settle", perf.DefaultSettle, "pause after registering and after both calls are up, before a window")
	flag.StringVar(&o.Dir, "dir", "", "work folder, kept (default: a temporary one, removed)")
	flag.StringVar(&o.Baresip, "baresip", "", "baresip's binary (default: from PATH)")
	flag.BoolVar(&o.Socket, "socket", false, "keep the phones' audio on their panel sockets instead of a shared file (panel/4)")
	asJSON := flag.Bool("json", false, "print the report as JSON")
	threads := flag.Bool("threads", false, "print each thread's wake-ups and CPU under its process")
	verbose := flag.Bool("v", false, "print progress")
	flag.Parse()
	log.SetFlags(0)
	if *verbose {
		o.Logf = log.Printf
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Idle+o.Call+2*o.Settle+2*60e9)
	defer cancel()
	r, err := perf.Run(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	if *asJSON {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(r); err != nil {
			log.Fatal(err)
		}
	} else {
		r.Format(os.Stdout, *threads)
	}
	if err := r.Check(); err != nil {
		log.Fatal(err)
	}
}
