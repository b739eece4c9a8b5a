package gpiohost

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// DESIGN.md: nothing but hal/... drivers imports periph's host; here, only
// this package does.
func TestOnlyGpiohostImportsPeriphHost(t *testing.T) {
	goBin := testtool.Go(t)
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/deskphone/deskphone/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, "periph.io/x/host/") && pkg != "github.com/deskphone/deskphone/hal/gpiohost" {
				t.Errorf("%s imports %s; only hal/gpiohost may", pkg, imp)
			}
		}
	}
}
