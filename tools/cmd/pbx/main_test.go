package main

import (
	"strings"
	"testing"
)

func TestRunRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		listen, realm, users, usersFile string
		want                            string
	}{
		{"both user sources", "127.0.0.1:0", "r", "1001:a", "x.txt", "not both"},
		{"bad users", "127.0.0.1:0", "r", "1001", "", "bad user entry"},
		{"missing users file", "127.0.0.1:0", "r", "", "/nonexistent/users.txt", "users file"},
		{"bad listen", "nonsense", "r", "", "", "listen address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.listen, tc.realm, tc.users, tc.usersFile, false, true, voicemail{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "pbx: ") {
				t.Errorf("run = %v, want an error about %q", err, tc.want)
			}
		})
	}
}
