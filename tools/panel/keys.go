package panel

// Quit is returned by KeyLines when the person asked to quit.
const Quit = "\x00quit"

// letterKeys are the named keys on letters.
var letterKeys = map[byte]string{
	'H': "hold", 'T': "transfer", 'C': "conf", 'R': "redial", 'D': "dnd",
	'F': "fwd", 'V': "vm", 'M': "mute", 'S': "speaker", 'O': "ok",
	'+': "volup", '-': "voldown",
}

// KeyLines turns one read of keyboard input (raw mode) into control lines
// for the phone, in order. The hook toggles m.OffHook. Quit in the result
// means stop; bytes it does not know are ignored.
func KeyLines(m *Model, in []byte) []string {
	var out []string
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c >= '0' && c <= '9' || c == '*' || c == '#':
			out = append(out, "key "+string(c))
		case c == '\r' || c == '\n':
			out = append(out, "key send")
		case c == 'h' || c == ' ':
			m.OffHook = !m.OffHook
			if m.OffHook {
				out = append(out, "hook off")
			} else {
				out = append(out, "hook on")
			}
		case c == 's':
			out = append(out, "status")
		case c == 'q' || c == 3 || c == 4: // q, Ctrl-C, Ctrl-D
			return append(out, Quit)
		case c == 0x1b:
			// Esc alone is cancel; Esc [ A/B are the arrows, Esc O P-S are F1-F4.
			if i+2 < len(in) && (in[i+1] == '[' || in[i+1] == 'O') {
				switch in[i+2] {
				case 'A':
					out = append(out, "key up")
				case 'B':
					out = append(out, "key down")
				case 'P', 'Q', 'R', 'S':
					if in[i+1] == 'O' {
						out = append(out, "key line"+string('1'+in[i+2]-'P'))
					}
				}
				i += 2
				// Skip the rest of a longer sequence (e.g. "\x1b[1;5A").
				for i < len(in) && in[i] >= '0' && in[i] <= ';' {
					i++
				}
				continue
			}
			out = append(out, "key cancel")
		default:
			if k, ok := letterKeys[c]; ok {
				out = append(out, "key "+k)
			}
		}
	}
	return out
}
