//go:build !unix

package diag

import "errors"

// rawSend: syslog is sent from unix phones only.
func rawSend(uintptr, []byte) error { return errors.New("diag: syslog needs a unix system") }
