package interop

import (
	"os/exec"
	"syscall"
	"time"
)

// ownGroup starts cmd in its own process group (so that stopping it ends
// the children it forks) and has the kernel kill it should this process die
// first, so that no peer outlives a killed test.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// stopGroup sends SIGTERM to cmd's process group and SIGKILL after grace
// unless done closes first; it returns once done is closed.
func stopGroup(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	pid := cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
}
