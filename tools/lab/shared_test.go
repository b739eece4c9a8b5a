package lab

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/panelclient"
)

// TestSharedPanelsSim: with SharedPanels a person's panel attaches to a
// phone in the middle of a call, is shown the call as it is (panel/3's
// replay), works the phone beside the test's own client, and detaches
// without ending anything.
func TestSharedPanelsSim(t *testing.T) {
	testtool.Long(t, "make e2e")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	l, err := Start(ctx, Options{Board: Sim, Exts: []string{"1001", "1002"}, Dir: t.TempDir(), Logf: t.Logf, SharedPanels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	f := NewFlow(t, ctx, l)
	f.Do("1001", "dial 1002")
	f.Expect("1002", `^ring on`)
	f.Do("1002", "hook off")
	f.Expect("1001", `^phone connected$`)

	person, err := panelclient.Dial(ctx, f.Phone("1002").PanelAddr)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if _, err := person.WaitAfter(wctx, 0, regexp.MustCompile(`^state end$`)); err != nil {
		t.Fatal(err)
	}
	replay := strings.Join(person.Lines(0), "\n")
	for _, want := range []string{"\nphone connected\n", "\nreg 1 registered\n", "\ndisplay 1 Talking to "} {
		if !strings.Contains(replay, want) {
			t.Errorf("the late panel was not shown %q:\n%s", strings.TrimSpace(want), replay)
		}
	}
	// The person puts the call on hold from their panel; the test's
	// client sees it too.
	mark := f.Phone("1002").Panel.Mark()
	if err := person.Send("key hold"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Phone("1002").Panel.WaitAfter(wctx, mark, regexp.MustCompile(`^phone held$`)); err != nil {
		t.Fatal(err)
	}
	person.Close() // detaches: the call goes on
	f.Do("1002", "key hold")
	f.Expect("1002", `^phone connected$`)
	f.HangupAll()
}
