package panel

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// DisplayRows is how many display rows the screen shows.
const DisplayRows = 4

// maxLogs is how many log lines the screen keeps.
const maxLogs = 5

// Lamps are the lamps always shown, in this order; others appear after them.
var Lamps = []string{"mwi", "dnd", "hold", "mute", "line1", "line2"}

// Call is one call as the phone last described it.
type Call struct {
	State, Peer string
}

// Model is what the phone has shown: built from its panel lines by Apply.
type Model struct {
	Ready   string // "ready BOARD VERSION panel/4"
	Display [DisplayRows]string
	LEDs    map[string]string // lamp -> on, off, blink
	Ring    string            // cadence while ringing, "" when silent
	Tone    string
	Phone   string
	Regs    map[int]string
	MWI     map[int]string // line -> "NEW/OLD"
	Calls   map[int]Call   // ended calls are removed
	Status  string
	Logs    []string // the last few log and error lines
	OffHook bool     // what this panel last did with the hook
	Audio   bool     // panel/2: the phone streams audio (audio on / audio off)
	// AudioRate is the audio stream's rate, samples/s: 8000 unless the
	// client asked for another (panel/3's audio rate); 0: not said.
	AudioRate int
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{LEDs: map[string]string{}, Regs: map[int]string{}, MWI: map[int]string{}, Calls: map[int]Call{}}
}

// Apply takes one line from the phone. Lines it does not know are logged.
func (m *Model) Apply(line string) {
	verb, rest, _ := strings.Cut(line, " ")
	a, b, _ := strings.Cut(rest, " ")
	switch verb {
	case "ready":
		m.Ready = line
		return
	case "status":
		m.Status = rest
		return
	case "phone":
		m.Phone = rest
		// The hook as the phone has it (another panel may have moved it).
		switch rest {
		case "idle", "ringing":
			m.OffHook = false
		case "dialtone", "dialing":
			m.OffHook = true
		}
		return
	case "tone":
		m.Tone = rest
		if rest == "none" {
			m.Tone = ""
		}
		return
	case "ring":
		switch a {
		case "on":
			m.Ring = b
			if m.Ring == "" {
				m.Ring = "on"
			}
			return
		case "off":
			m.Ring = ""
			return
		}
	case "led":
		if a != "" && b != "" {
			m.LEDs[a] = b
			return
		}
	case "display":
		if r, err := strconv.Atoi(a); err == nil && r >= 0 && r < DisplayRows {
			m.Display[r] = b
			return
		}
	case "reg":
		if n, err := strconv.Atoi(a); err == nil && b != "" {
			m.Regs[n] = b
			return
		}
	case "mwi":
		if n, err := strconv.Atoi(a); err == nil && b != "" {
			m.MWI[n] = b
			return
		}
	case "call":
		if id, err := strconv.Atoi(a); err == nil && b != "" {
			st, peer, _ := strings.Cut(b, " ")
			if strings.HasPrefix(st, "ended") {
				delete(m.Calls, id)
				m.log(fmt.Sprintf("call %d %s %s", id, st, peer))
			} else {
				m.Calls[id] = Call{State: st, Peer: peer}
			}
			return
		}
	case "audio":
		// panel/2: the phone's frame clock runs (a call, a tone) or is
		// stopped (idle); the terminal panel's audio follows the stream.
		if a == "on" || a == "off" {
			m.Audio = a == "on"
			return
		}
		// panel/3: the answer to "audio rate R".
		if a == "rate" {
			if n, err := strconv.Atoi(b); err == nil && n > 0 {
				m.AudioRate = n
				return
			}
		}
	case "state":
		// panel/3: the replay of the phone's state is framed by "state
		// begin" and "state end"; the lines between are the usual ones.
		if rest == "begin" || rest == "end" {
			return
		}
	case "log":
		m.log(rest)
		return
	case "error":
		m.log("error: " + rest)
		return
	}
	m.log("? " + line)
}

func (m *Model) log(s string) {
	m.Logs = append(m.Logs, s)
	if len(m.Logs) > maxLogs {
		m.Logs = append(m.Logs[:0], m.Logs[len(m.Logs)-maxLogs:]...)
	}
}

// Legend is the key help shown under the screen.
const Legend = "0-9 * # dial  Enter send  h/space hook  H hold  T transfer  C conf  R redial\n" +
	"D dnd  F fwd  V vm  M mute  S speaker  O ok  +/- volume  Esc cancel\n" +
	"arrows up/down  F1-F4 line1-4  s status  Tab next phone  q quit"

// Screen renders the model as plain text lines (no escape sequences),
// width columns wide for the display box.
func (m *Model) Screen(width int) string {
	width = max(width, 24)
	var sb strings.Builder
	title := "phone"
	if f := strings.Fields(m.Ready); len(f) >= 3 {
		title = f[1] + " " + f[2]
	}
	inner := width - 2
	top := "+- " + title + " "
	sb.WriteString(fit(top+strings.Repeat("-", max(inner-len(top)+1, 0)), width-1) + "+\n")
	for _, r := range m.Display {
		sb.WriteString("|" + pad(r, inner) + "|\n")
	}
	sb.WriteString("+" + strings.Repeat("-", inner) + "+\n")

	// Lamps.
	sb.WriteString("lamps:")
	for _, n := range m.lampNames() {
		mark := " "
		switch m.LEDs[n] {
		case "on":
			mark = "*"
		case "blink":
			mark = "~"
		}
		sb.WriteString(" [" + mark + n + "]")
	}
	sb.WriteString("\n")

	// Ringer, tone, hook.
	ring := "silent"
	if m.Ring != "" {
		ring = "RINGING (" + m.Ring + ")"
	}
	tone := m.Tone
	if tone == "" {
		tone = "none"
	}
	hook := "on hook"
	if m.OffHook {
		hook = "OFF HOOK"
	}
	fmt.Fprintf(&sb, "ringer: %s  tone: %s  handset: %s\n", ring, tone, hook)

	// Registration, phone state, voicemail.
	phone := m.Phone
	if phone == "" {
		phone = "?"
	}
	sb.WriteString("phone: " + phone)
	for _, n := range sortedKeys(m.Regs) {
		fmt.Fprintf(&sb, "  line%d: %s", n, m.Regs[n])
	}
	for _, n := range sortedKeys(m.MWI) {
		fmt.Fprintf(&sb, "  vm%d: %s", n, m.MWI[n])
	}
	sb.WriteString("\n")

	// Calls.
	if len(m.Calls) == 0 {
		sb.WriteString("calls: none\n")
	}
	for _, id := range sortedKeys(m.Calls) {
		c := m.Calls[id]
		fmt.Fprintf(&sb, "call %d: %s  %s\n", id, c.State, c.Peer)
	}
	if m.Status != "" {
		sb.WriteString("status: " + m.Status + "\n")
	}
	sb.WriteString("log:\n")
	for _, l := range m.Logs {
		sb.WriteString("  " + l + "\n")
	}
	sb.WriteString("\n" + Legend + "\n")
	return sb.String()
}

func (m *Model) lampNames() []string {
	names := append([]string(nil), Lamps...)
	var extra []string
	for n := range m.LEDs {
		known := false
		for _, l := range Lamps {
			known = known || l == n
		}
		if !known {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	return append(names, extra...)
}

func sortedKeys[V any](m map[int]V) []int {
	k := make([]int, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Ints(k)
	return k
}

// pad fits s into exactly n columns (counting runes).
func pad(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s + strings.Repeat(" ", n-len(r))
}

func fit(s string, n int) string { return pad(s, n) }
