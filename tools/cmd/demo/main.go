// Command demo is `make demo`: the development PBX and two phones in QEMU;
// 1001 calls 1002, 1002 answers, a tone goes each way, 1001 hangs up. It
// prints the SIP ladder the PBX saw and the audio each side received.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/deskphone/deskphone/tools/lab"
)

func main() {
	board := flag.String("board", "qemu", "where the phones run: qemu or sim")
	verbose := flag.Bool("v", false, "print the phones' consoles")
	dir := flag.String("dir", "", "work folder (default: a temporary one)")
	flag.Parse()
	log.SetFlags(0)

	d := *dir
	if d == "" {
		var err error
		if d, err = os.MkdirTemp("", "deskphone-demo-"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := lab.Options{Board: lab.Board(*board), Exts: []string{"1001", "1002"}, Dir: d, Logf: log.Printf}
	if *verbose {
		opts.Console = os.Stdout
	}
	fmt.Printf("Starting the development PBX and two phones (%s board)...\n", *board)
	l, err := lab.Start(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	took, err := l.WaitRegistered(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, ph := range l.Phones {
		fmt.Printf("%s registered %.2f s after its start\n", ph.Ext, took[ph.Ext].Seconds())
	}
	r, err := l.BasicCall(ctx, l.Phones[0], l.Phones[1], func(s string) { fmt.Println("  " + s) })
	if err != nil {
		log.Fatal(err)
	}
	r.BootToRegistered = took
	fmt.Printf("\nThe SIP ladder, as the PBX saw it:\n\n%s\n", r.FormatLadder())
	fmt.Printf("The eight steps and the audio:\n%s", r.Summary())
	if err := r.OK(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("\ndemo: the call went through all eight steps with audio both ways")
}
