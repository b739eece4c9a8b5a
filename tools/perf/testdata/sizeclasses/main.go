// Command sizeclasses measures what the Go runtime's own bookkeeping costs
// a program in resident memory, beside README's "The whole phone against
// baresip": run alone it reports a program that only starts (the floor),
// with -all one that allocates a little in most size classes the way a
// phone's start does, collects a few times and keeps almost nothing. The
// difference is the runtime's per-size-class state (mcentral span sets,
// span structures), which it keeps once made.
//
//	go run ./tools/perf/testdata/sizeclasses
//	go run ./tools/perf/testdata/sizeclasses -all
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

var keep [][]byte

func main() {
	all := flag.Bool("all", false, "allocate in most size classes first")
	flag.Parse()
	runtime.GOMAXPROCS(1) // as phoned runs
	if *all {
		// 53 sizes from 8 B to 32 KiB, each about an eighth above the
		// last: most of the runtime's 67 small size classes get objects.
		for round := range 6 {
			for size := 8; size <= 32<<10; size += size/8 + 8 {
				for i := range 40 {
					b := make([]byte, size)
					if round == 5 && i == 0 {
						keep = append(keep, b)
					}
				}
			}
			runtime.GC()
		}
	}
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "RssAnon") || strings.HasPrefix(l, "VmRSS") {
			fmt.Println(strings.Join(strings.Fields(l), " "))
		}
	}
	kept := 0
	for _, b := range keep {
		kept += len(b)
	}
	fmt.Printf("kept: %d objects, %d KiB\n", len(keep), kept/1024)
}
