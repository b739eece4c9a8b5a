//go:build !linux

package interop

import (
	"os"
	"os/exec"
	"time"
)

func ownGroup(cmd *exec.Cmd) {}

func stopGroup(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
	}
}
