package testtool

import "testing"

// Long marks a test too long, or too heavy on peers, for -short: under
// -short (make unit) it stops the test, saying which make step runs it
// (where: "make e2e", "make race", ...); without -short it returns and the
// test runs, CI or not. It is the one place a test steps aside for -short;
// a missing tool is Need's and Missing's (which fail under CI).
func Long(t testing.TB, where string) {
	t.Helper()
	if testing.Short() {
		t.Skip("long: " + where + " runs it (without -short)")
	}
}
