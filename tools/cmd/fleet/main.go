// Command fleet is the fleet benchmark (tools/fleet, `make fleet`): N sim
// phones provisioned from tftpd-hpa registering with Kamailio, a building
// power cut, C concurrent calls and a resync storm, with the figures.
//
//	fleet -n 1000 -c 50
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/deskphone/deskphone/tools/fleet"
)

func main() {
	n := flag.Int("n", 100, "phones")
	c := flag.Int("c", 10, "concurrent calls (at most n/2)")
	sample := flag.Int("sample", 0, "calls whose audio is checked (default min(c, 4))")
	spread := flag.Duration("spread", time.Second, "the phones boot within this window after the power returns")
	phase := flag.Duration("phase", 90*time.Second, "bound of each phase")
	dir := flag.String("dir", "", "work folder (default: a temporary one, removed after)")
	verbose := flag.Bool("v", false, "progress lines")
	trace := flag.String("trace", "", "comma-separated extensions (20001 is the first phone) whose log lines to print (with -v)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	heapProfile := flag.String("memprofile", "", "write a heap profile to this file at the end")
	flag.Parse()
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := fleet.Options{N: *n, C: *c, Sample: *sample, Spread: *spread, Phase: *phase, Dir: *dir}
	if *trace != "" {
		o.Trace = strings.Split(*trace, ",")
	}
	if *verbose {
		o.Logf = log.Printf
	}
	r, err := fleet.Run(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	if *heapProfile != "" {
		if pf, err := os.Create(*heapProfile); err == nil {
			pprof.WriteHeapProfile(pf)
			pf.Close()
		}
	}
	fmt.Print(r.Format())
	if err := r.Check(); err != nil {
		fmt.Println(err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
