package update

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/deskphone/deskphone/firmware/version"
)

// Slot is where a firmware runs from.
type Slot uint8

const (
	// Factory is the phoned of the initramfs, which is also the boot
	// loader: it cannot be overwritten, so the phone always has it.
	Factory Slot = iota
	A
	B
)

func (s Slot) String() string {
	switch s {
	case Factory:
		return "factory"
	case A:
		return "A"
	case B:
		return "B"
	}
	return "slot(" + strconv.Itoa(int(s)) + ")"
}

// ParseSlot reads what Slot.String writes.
func ParseSlot(s string) (Slot, error) {
	switch s {
	case "factory":
		return Factory, nil
	case "A":
		return A, nil
	case "B":
		return B, nil
	}
	return 0, fmt.Errorf("update: no slot %q (factory, A or B)", s)
}

// other is the slot an update goes to when s runs.
func (s Slot) other() Slot {
	if s == A {
		return B
	}
	return A
}

// Record is the boot record: which slot boots, whether it has proven
// itself, and what to fall back to. It is kept twice on the state device
// with generations and CRCs (storage.Store), so a write torn by a power
// cut leaves the previous record.
type Record struct {
	Active Slot // what boots
	// Confirmed: Active registered (or reached the panel without a line)
	// within ConfirmSeconds of a start. An unconfirmed Active is started
	// at most Tries more times, then abandoned for Previous.
	Confirmed bool
	Tries     int
	Previous  Slot // the confirmed slot before Active, the fallback
	// ConfirmSeconds is how long an unconfirmed Active has to confirm
	// before it is killed (firmware.confirm_seconds when installed).
	ConfirmSeconds int
	// Versions of what the slots hold, by slot (Factory's is the
	// initramfs's and not kept).
	VersionA, VersionB string
	// Failed is the version last abandoned: the phone does not install
	// it again (a fleet whose configuration still names it would loop).
	Failed string
	// Note is the last rollback, "update to X failed, rolled back to Y",
	// shown on the display and logged at each start until the next update.
	Note string
}

// VersionOf is the version slot s holds ("" unknown, or Factory).
func (r Record) VersionOf(s Slot) string {
	switch s {
	case A:
		return r.VersionA
	case B:
		return r.VersionB
	}
	return ""
}

func (r *Record) setVersion(s Slot, v string) {
	switch s {
	case A:
		r.VersionA = v
	case B:
		r.VersionB = v
	}
}

const recordMagic = "deskphone-boot-record-v1"

// Marshal writes the record as lines of "key=value" after a magic line.
func (r Record) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(recordMagic + "\n")
	fmt.Fprintf(&b, "active=%s\nconfirmed=%t\ntries=%d\nprevious=%s\nconfirm_seconds=%d\n",
		r.Active, r.Confirmed, r.Tries, r.Previous, r.ConfirmSeconds)
	fmt.Fprintf(&b, "version.A=%s\nversion.B=%s\nfailed=%s\nnote=%s\n", r.VersionA, r.VersionB, r.Failed, r.Note)
	return b.Bytes()
}

var errRecord = errors.New("update: malformed boot record")

// UnmarshalRecord reads what Marshal writes, strictly: every key once, in
// any order, no other key, values checked.
func UnmarshalRecord(b []byte) (Record, error) {
	rest, ok := bytes.CutPrefix(b, []byte(recordMagic+"\n"))
	if !ok {
		return Record{}, fmt.Errorf("%w: no magic", errRecord)
	}
	var r Record
	seen := map[string]bool{}
	for _, line := range strings.SplitAfter(string(rest), "\n") {
		if line == "" {
			continue
		}
		line, ok = strings.CutSuffix(line, "\n")
		if !ok {
			return Record{}, fmt.Errorf("%w: last line unterminated", errRecord)
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || seen[k] {
			return Record{}, fmt.Errorf("%w: line %q", errRecord, line)
		}
		seen[k] = true
		var err error
		switch k {
		case "active":
			r.Active, err = ParseSlot(v)
		case "previous":
			r.Previous, err = ParseSlot(v)
		case "confirmed":
			r.Confirmed, err = strconv.ParseBool(v)
		case "tries":
			r.Tries, err = smallInt(v)
		case "confirm_seconds":
			r.ConfirmSeconds, err = smallInt(v)
		case "version.A":
			r.VersionA, err = optVersion(v)
		case "version.B":
			r.VersionB, err = optVersion(v)
		case "failed":
			r.Failed, err = optVersion(v)
		case "note":
			r.Note = v
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			return Record{}, fmt.Errorf("%w: %s: %v", errRecord, k, err)
		}
	}
	if len(seen) != 9 {
		return Record{}, fmt.Errorf("%w: %d keys, want 9", errRecord, len(seen))
	}
	return r, nil
}

func smallInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 100000 || strconv.Itoa(n) != v {
		return 0, fmt.Errorf("%q is not a small number", v)
	}
	return n, nil
}

func optVersion(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	_, err := version.Parse(v)
	return v, err
}

// Choice is what the boot loader does at a start.
type Choice struct {
	Boot Slot
	// Deadline is how long Boot has to confirm (seconds); 0: it is
	// confirmed and runs unwatched.
	Deadline int
	// RolledBack is set when this start abandoned an update: the note.
	RolledBack string
}

// Next decides what boots: Active when confirmed; an unconfirmed Active
// while it has tries left (one is used up now, before it runs, so a
// start that never comes back still counts); else Previous, with the
// note that says so. It returns the record to write before booting and
// whether it changed.
func Next(r Record, factoryVersion string) (Choice, Record, bool) {
	if r.Active == Factory || r.Confirmed {
		return Choice{Boot: r.Active}, r, false
	}
	if r.Tries > 0 {
		r.Tries--
		return Choice{Boot: r.Active, Deadline: max(r.ConfirmSeconds, 1)}, r, true
	}
	return Abandon(r, factoryVersion)
}

// Abandon gives up on r.Active (tries used up, or its slot does not
// read back) for r.Previous.
func Abandon(r Record, factoryVersion string) (Choice, Record, bool) {
	failed := r.VersionOf(r.Active)
	back := r.Previous
	if back == r.Active {
		back = Factory
	}
	to := r.VersionOf(back)
	if back == Factory {
		to = factoryVersion + " (factory)"
	}
	r.Note = fmt.Sprintf("update to %s failed, rolled back to %s", failed, to)
	r.Failed = failed
	r.Active, r.Confirmed, r.Tries, r.Previous = back, true, 0, Factory
	return Choice{Boot: back, RolledBack: r.Note}, r, true
}
