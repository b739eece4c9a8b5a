package lab

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Flow drives a lab's phones from a test, as a person at each phone would:
// Do sends a panel line to one phone, Expect and Absent look at what a phone
// showed since the last Do.
type Flow struct {
	T     testing.TB
	Ctx   context.Context
	Lab   *Lab
	marks map[*Phone]int
}

// NewFlow returns a Flow over a started lab; ctx bounds every wait.
func NewFlow(t testing.TB, ctx context.Context, l *Lab) *Flow {
	return &Flow{T: t, Ctx: ctx, Lab: l, marks: map[*Phone]int{}}
}

// Phone is the lab's phone of extension ext.
func (f *Flow) Phone(ext string) *Phone {
	for _, p := range f.Lab.Phones {
		if p.Ext == ext {
			return p
		}
	}
	f.T.Fatalf("no phone %s", ext)
	return nil
}

// Do sends a panel line to a phone; what every phone shows from then on is
// what Expect and Absent look at.
func (f *Flow) Do(ext, line string) {
	f.T.Helper()
	for _, p := range f.Lab.Phones {
		f.marks[p] = p.Panel.Mark()
	}
	f.T.Logf("%s panel <- %s", ext, line)
	if err := f.Phone(ext).Panel.Send(line); err != nil {
		f.T.Fatal(err)
	}
}

// Expect waits (10 s at most) for a line matching re on ext's panel since
// the last Do, and returns it.
func (f *Flow) Expect(ext, re string) string {
	f.T.Helper()
	return f.ExpectWithin(ext, re, 10*time.Second)
}

// ExpectWithin is Expect waiting at most d.
func (f *Flow) ExpectWithin(ext, re string, d time.Duration) string {
	f.T.Helper()
	ctx, cancel := context.WithTimeout(f.Ctx, d)
	defer cancel()
	p := f.Phone(ext)
	got, err := p.Panel.WaitAfter(ctx, f.marks[p], regexp.MustCompile(re))
	if err != nil {
		f.T.Fatalf("%s: no %q: %v; its panel said:\n%s", ext, re, err, joinLines(p.Panel.Lines(f.marks[p])))
	}
	f.T.Logf("%s panel -> %s", ext, got)
	return got
}

// Absent checks that no line matching re came from ext since the last Do.
func (f *Flow) Absent(ext, re string) {
	f.T.Helper()
	p := f.Phone(ext)
	rx := regexp.MustCompile(re)
	for _, l := range p.Panel.Lines(f.marks[p]) {
		if rx.MatchString(l) {
			f.T.Fatalf("%s: unexpected %q", ext, l)
		}
	}
}

// HangupAll puts every handset down and waits (5 s at most each) for the
// phones to be idle.
func (f *Flow) HangupAll() {
	f.T.Helper()
	for _, p := range f.Lab.Phones {
		f.Do(p.Ext, "hook on")
	}
	for _, p := range f.Lab.Phones {
		for i := 0; ; i++ {
			st, err := p.Panel.Status(f.Ctx)
			if err != nil {
				f.T.Fatal(err)
			}
			if strings.Contains(st, " phone=idle ") {
				break
			}
			if i == 50 {
				f.T.Fatalf("%s is not idle: %s", p.Ext, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func joinLines(ls []string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// Await waits for a line matching re on the phone's panel after mark, at
// most until ctx ends, and returns it; the test fails if none comes.
func (ph *Phone) Await(t testing.TB, ctx context.Context, mark int, re string) string {
	t.Helper()
	line, err := ph.Panel.WaitAfter(ctx, mark, regexp.MustCompile(re))
	if err != nil {
		t.Fatalf("%s waiting for %q: %v", ph.Ext, re, err)
	}
	return line
}
