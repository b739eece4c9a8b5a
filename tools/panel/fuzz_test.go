package panel

import (
	"strings"
	"testing"
)

func FuzzApply(f *testing.F) {
	for _, s := range []string{"display 0 hi", "call 1 ended:200 Bob", "ring on", "led mwi", "mwi x 1/2", "status a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m := NewModel()
		m.Apply(line)
		m.Apply(line)
		if len(m.Logs) > maxLogs {
			t.Fatalf("%d log lines", len(m.Logs))
		}
		sc := m.Screen(30)
		if !strings.Contains(sc, Legend) {
			t.Fatalf("%q: screen lost its legend", line)
		}
	})
}

func FuzzKeyLines(f *testing.F) {
	for _, s := range []string{"12#\r", "\x1b[A", "\x1bOQ", "h h", "q", "\x1b["} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m := NewModel()
		for _, l := range KeyLines(m, in) {
			if l == Quit {
				continue
			}
			verb, arg, _ := strings.Cut(l, " ")
			switch verb {
			case "key":
				if arg == "" || strings.ContainsAny(arg, " \n") {
					t.Fatalf("%q: line %q", in, l)
				}
			case "hook":
				if arg != "on" && arg != "off" {
					t.Fatalf("%q: line %q", in, l)
				}
			case "status":
			default:
				t.Fatalf("%q: line %q", in, l)
			}
		}
	})
}
