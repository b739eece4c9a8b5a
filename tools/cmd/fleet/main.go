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
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := fleet.Options{N: *n, C: *c, Sample: *sample, Spread: *spread, Phase: *phase, Dir: *dir}
	if *verbose {
		o.Logf = log.Printf
	}
	r, err := fleet.Run(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(r.Format())
	if err := r.Check(); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
