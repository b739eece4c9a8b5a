package pbx

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DefaultUsers returns the development extensions 1001 to 1010, each with the
// password "pw" followed by the extension (1001 -> "pw1001"). `make run` and
// the firmware's example configurations use these.
func DefaultUsers() map[string]string {
	u := make(map[string]string, 10)
	for ext := 1001; ext <= 1010; ext++ {
		s := strconv.Itoa(ext)
		u[s] = "pw" + s
	}
	return u
}

// ParseUsers parses "ext:password" entries separated by commas or newlines,
// e.g. "1001:pw1,1002:pw2". Blank entries and lines starting with '#' are
// ignored; an extension may appear only once.
func ParseUsers(s string) (map[string]string, error) {
	users := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, e := range strings.Split(line, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			ext, pw, ok := strings.Cut(e, ":")
			ext, pw = strings.TrimSpace(ext), strings.TrimSpace(pw)
			if !ok || ext == "" || pw == "" {
				return nil, fmt.Errorf("pbx: bad user entry %q (want ext:password)", e)
			}
			if strings.ContainsAny(ext, " \t@;<>\"") {
				return nil, fmt.Errorf("pbx: bad extension %q", ext)
			}
			if _, dup := users[ext]; dup {
				return nil, fmt.Errorf("pbx: extension %q listed twice", ext)
			}
			users[ext] = pw
		}
	}
	return users, nil
}

// ReadUsersFile reads a users file: ParseUsers's format, one entry a line.
func ReadUsersFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pbx: users file: %w", err)
	}
	return ParseUsers(string(b))
}
