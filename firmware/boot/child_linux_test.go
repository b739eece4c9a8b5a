package boot

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestStartChild runs StartChild in a fresh copy of the test binary (this
// package's ReapChildren test leaves a reaper in this process that would
// take the child's status): a child that exits says its status, one that
// is killed says so.
func TestStartChild(t *testing.T) {
	if os.Getenv("BOOT_START_CHILD") == "1" {
		startChildHelper()
		return
	}
	sh, sleep := testtool.Need(t, "sh"), testtool.Need(t, "sleep")
	cmd := exec.Command(os.Args[0], "-test.run=^TestStartChild$")
	cmd.Env = append(os.Environ(), "BOOT_START_CHILD=1", "BOOT_SH="+sh, "BOOT_SLEEP="+sleep)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"exited: exit status 3", "killed: killed by signal 9 (killed)", "missing: boot: start /nonexistent"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func startChildHelper() {
	wait, _, err := StartChild(os.Getenv("BOOT_SH"), []string{"sh", "-c", "exit 3"})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("exited:", wait())
	wait, kill, err := StartChild(os.Getenv("BOOT_SLEEP"), []string{"sleep", "60"})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	kill()
	fmt.Println("killed:", wait())
	if _, _, err := StartChild("/nonexistent", []string{"x"}); err != nil {
		fmt.Println("missing:", err)
	}
}
