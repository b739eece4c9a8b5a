package interop

import (
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// need returns the path of a peer's binary (testtool.Need: without it the
// test skips, or fails when CI is set, the project's scripts installing the
// peers there). With -short (make unit) the tests skip: make peers runs them.
func need(t *testing.T, name string) string {
	t.Helper()
	testtool.Long(t, "make peers")
	return testtool.Need(t, name)
}
