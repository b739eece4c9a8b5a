package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/tools/pbx"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "UDP address to listen on")
	realm := flag.String("realm", "deskphone", "digest realm")
	users := flag.String("users", "", `extensions and passwords, "1001:pw1,1002:pw2" (default: 1001..1010 with pw1001..pw1010)`)
	usersFile := flag.String("users-file", "", "file of ext:password lines")
	ladder := flag.Bool("ladder", false, "print each SIP message, one line per message, as it passes")
	quiet := flag.Bool("q", false, "no log lines")
	var vm voicemail
	flag.StringVar(&vm.number, "voicemail-number", pbx.DefaultVoicemailNumber, `the mailboxes' number; "NUMBER*EXT" leaves a message for EXT`)
	flag.StringVar(&vm.dir, "voicemail-dir", "", "folder of the mailboxes (EXT/new, EXT/old, WAV files); default: a temporary folder removed on exit")
	flag.DurationVar(&vm.max, "voicemail-max", pbx.DefaultVoicemailMax, "longest message recorded")
	flag.DurationVar(&vm.noAnswer, "no-answer", 0, "send a call that rings this long to the callee's mailbox (0: the phone decides)")
	flag.BoolVar(&vm.noFallback, "no-voicemail-fallback", false, "pass 486/480/408 and unregistered callees back to the caller instead of to the callee's mailbox")
	flag.Parse()
	if err := run(*listen, *realm, *users, *usersFile, *ladder, *quiet, vm); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// voicemail holds the mailbox flags.
type voicemail struct {
	number, dir string
	max         time.Duration
	noAnswer    time.Duration
	noFallback  bool
}

func run(listen, realm, users, usersFile string, ladder, quiet bool, vm voicemail) error {
	cfg := pbx.Config{Listen: listen, Realm: realm,
		VoicemailNumber: vm.number, VoicemailDir: vm.dir, VoicemailMax: vm.max, NoVoicemailFallback: vm.noFallback, NoAnswer: vm.noAnswer}
	switch {
	case users != "" && usersFile != "":
		return fmt.Errorf("pbx: give -users or -users-file, not both")
	case users != "":
		u, err := pbx.ParseUsers(users)
		if err != nil {
			return err
		}
		cfg.Users = u
	case usersFile != "":
		u, err := pbx.ReadUsersFile(usersFile)
		if err != nil {
			return err
		}
		cfg.Users = u
	}
	lg := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	if !quiet {
		cfg.Logf = lg.Printf
	}
	if ladder {
		cfg.Trace = func(e pbx.Entry) { fmt.Println(e.String()) }
	}
	p, err := pbx.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := p.Start(ctx); err != nil {
		return err
	}
	if cfg.Logf != nil {
		cfg.Logf("pbx: voicemail on %s, mailboxes in %s", p.VoicemailNumber(), p.VoicemailDir())
	}
	<-ctx.Done()
	return p.Close()
}
