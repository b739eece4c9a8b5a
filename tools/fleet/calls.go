package fleet

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/panelclient"
	"github.com/deskphone/deskphone/tools/perf"
)

// calls puts C calls up at once through Kamailio, phone 2i calling phone
// 2i+1: the C-Sample plain ones first (connected at both panels), then,
// while they are up, the Sample ones through tools/lab's basic call (a
// tone each way, measured in the far earpiece), with this process and
// Kamailio measured over that window; then everything hangs up.
func (f *fleet) calls(ctx context.Context) (Calls, Usage, Usage) {
	c := Calls{Load: perf.LoadAvg()}
	// Each step (placing the plain calls, the sampled ones, hanging up)
	// has a Phase of its own: a slow setup leaves the others their time.
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, f.o.Phase)
	defer cancel()
	var mu sync.Mutex
	failed := map[string]bool{} // by caller: a call fails once however many of its steps do
	fail := func(a, b *phone, why string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if failed[a.ext] {
			return
		}
		failed[a.ext] = true
		c.Failed++
		if c.Failed == 1 {
			f.o.Logf("fleet: call %s->%s failed: %s; the caller's last lines:\n%s\nthe callee's:\n%s", a.ext, b.ext, fmt.Sprintf(why, args...), a.lastLines(), b.lastLines())
			n := 0
			for _, line := range strings.Split(f.k.Log(), "\n") {
				if strings.Contains(line, "ERROR") && n < 5 {
					n++
					f.o.Logf("fleet: Kamailio: %s", line)
				}
			}
		}
		if len(c.Failures) < 5 {
			c.Failures = append(c.Failures, fmt.Sprintf("%s->%s: ", a.ext, b.ext)+fmt.Sprintf(why, args...))
		}
	}
	// The panels of the phones in calls.
	clients := make([]*panelclient.Client, 2*f.o.C)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := panelclient.Dial(ctx, f.phones[i].panel)
			if err == nil {
				clients[i] = cl
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, cl := range clients {
			if cl != nil {
				cl.Close()
			}
		}
	}()

	plain := f.o.C - f.o.Sample
	up := make([]bool, plain)
	t0 := time.Now()
	var last time.Time
	for i := range plain {
		a, b := clients[2*i], clients[2*i+1]
		if a == nil || b == nil {
			fail(f.phones[2*i], f.phones[2*i+1], "no panel")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := placeCall(ctx, a, b, f.phones[2*i+1].ext); err != nil {
				fail(f.phones[2*i], f.phones[2*i+1], "%v", err)
				return
			}
			mu.Lock()
			up[i], c.Up = true, c.Up+1
			last = time.Now()
			mu.Unlock()
		}()
	}
	wg.Wait()

	// The sampled calls, while the others are up: C at once.
	l := &lab.Lab{}
	ctx, cancel = context.WithTimeout(parent, f.o.Phase)
	defer cancel()
	phones, kam := f.measure(ctx, 3*time.Second, func() {
		for i := plain; i < f.o.C; i++ {
			a, b := clients[2*i], clients[2*i+1]
			pa, pb := f.phones[2*i], f.phones[2*i+1]
			if a == nil || b == nil {
				fail(pa, pb, "no panel")
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := l.BasicCallVia(ctx, &lab.Phone{Ext: pa.ext, Panel: a}, &lab.Phone{Ext: pb.ext, Panel: b}, nil, nil)
				if err == nil {
					err = r.OK()
				}
				if err != nil {
					fail(pa, pb, "(audio sampled) %v", err)
					return
				}
				mu.Lock()
				c.Up, c.AudioOK = c.Up+1, c.AudioOK+1
				mu.Unlock()
			}()
		}
		wg.Wait()
	})
	if !last.IsZero() {
		c.SetupTime = last.Sub(t0)
	}
	ctx, cancel = context.WithTimeout(parent, f.o.Phase)
	defer cancel()
	for i := range plain {
		if !up[i] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := hangUp(ctx, clients[2*i], clients[2*i+1]); err != nil {
				fail(f.phones[2*i], f.phones[2*i+1], "hanging up: %v", err)
			}
		}()
	}
	wg.Wait()
	return c, phones, kam
}

var (
	dialToneRE  = regexp.MustCompile(`^tone dial$`)
	ringRE      = regexp.MustCompile(`^ring on`)
	connectedRE = regexp.MustCompile(`^phone connected$`)
	endedRE     = regexp.MustCompile(`^call \d+ ended:`)
	idleRE      = regexp.MustCompile(`^phone idle$`)
)

// placeCall is a person at a lifting the handset and dialling ext, and one
// at b answering when it rings; it returns when both phones say connected,
// or at once with why when the call ends at a first (a 404, a 500).
func placeCall(ctx context.Context, a, b *panelclient.Client, ext string) error {
	ma, mb := a.Mark(), b.Mark()
	if err := a.Send("hook off"); err != nil {
		return err
	}
	if _, err := a.WaitAfter(ctx, ma, dialToneRE); err != nil {
		return fmt.Errorf("no dial tone: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan string, 1)
	go func() {
		if line, err := a.WaitAfter(ctx, ma, endedRE); err == nil {
			ended <- line
			cancel()
		}
	}()
	why := func(what string, err error) error {
		select {
		case line := <-ended:
			return fmt.Errorf("the caller said %q", line)
		default:
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := a.Send("dial " + ext); err != nil {
		return err
	}
	if _, err := b.WaitAfter(ctx, mb, ringRE); err != nil {
		return why("callee never rang", err)
	}
	if err := b.Send("hook off"); err != nil {
		return err
	}
	if _, err := b.WaitAfter(ctx, mb, connectedRE); err != nil {
		return why("callee not connected", err)
	}
	if _, err := a.WaitAfter(ctx, ma, connectedRE); err != nil {
		return why("caller not connected", err)
	}
	return nil
}

// hangUp puts a's handset down, waits until b sees the call end, and puts
// b's down.
func hangUp(ctx context.Context, a, b *panelclient.Client) error {
	ma, mb := a.Mark(), b.Mark()
	if err := a.Send("hook on"); err != nil {
		return err
	}
	if _, err := b.WaitAfter(ctx, mb, endedRE); err != nil {
		return fmt.Errorf("callee never saw the BYE: %w", err)
	}
	if err := b.Send("hook on"); err != nil {
		return err
	}
	if _, err := a.WaitAfter(ctx, ma, idleRE); err != nil {
		return fmt.Errorf("caller not idle: %w", err)
	}
	return nil
}
