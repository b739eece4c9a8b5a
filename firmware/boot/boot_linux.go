package boot

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// essentials are mounted in order: /dev before /dev/pts.
var essentials = []mount{
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "", "process information"},
	{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "", "device information in /sys"},
	{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755", "device nodes"},
	{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "mode=0620,ptmxmode=0666", "pseudo-terminals"},
	{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777", "a writable /tmp"},
	{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755", "a writable /run"},
}

// MountEssentials mounts /proc, /sys, /dev (devtmpfs), /dev/pts, /tmp and
// /run, creating the mount points. A file system already mounted there is
// left as it is. A failure is logged with what the phone does next (it
// carries on without that file system) and all failures are returned
// joined.
func MountEssentials(logf func(string, ...any)) error {
	return mountAll(essentials, logf, os.MkdirAll, unix.Mount)
}

func mountAll(ms []mount, logf func(string, ...any), mkdir func(string, os.FileMode) error,
	mnt func(source, target, fstype string, flags uintptr, data string) error) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var errs []error
	for _, m := range ms {
		if err := mkdir(m.target, 0o755); err != nil {
			logf("boot: creating %s failed: %v; carrying on without %s", m.target, err, m.without)
			errs = append(errs, fmt.Errorf("boot: mkdir %s: %w", m.target, err))
			continue
		}
		err := mnt(m.source, m.target, m.fstype, m.flags, m.data)
		switch {
		case err == nil:
			logf("boot: mounted %s on %s", m.fstype, m.target)
		case errors.Is(err, unix.EBUSY):
			logf("boot: %s already mounted on %s", m.fstype, m.target)
		default:
			logf("boot: mounting %s on %s failed: %v; carrying on without %s", m.fstype, m.target, err, m.without)
			errs = append(errs, fmt.Errorf("boot: mount %s on %s: %w", m.fstype, m.target, err))
		}
	}
	return errors.Join(errs...)
}

var reapOnce sync.Once

// ReapChildren starts a goroutine that waits for every child that exits,
// the duty of PID 1 towards orphans the kernel hands it. Call it once at
// start; later calls do nothing. It reaps any child, so a process that
// calls it cannot also wait for its own children with os/exec.
func ReapChildren() {
	reapOnce.Do(func() {
		c := make(chan os.Signal, 16)
		signal.Notify(c, unix.SIGCHLD)
		go func() {
			for {
				reap()
				<-c
			}
		}()
	})
}

func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
	}
}

// SetHostname sets the kernel's host name.
func SetHostname(name string) error {
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("boot: set hostname %q: %w", name, err)
	}
	return nil
}

// PowerOff syncs file systems and powers the machine off (QEMU exits). It
// returns only on failure.
func PowerOff() error {
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		return fmt.Errorf("boot: power off: %w", err)
	}
	return nil
}

// Reboot syncs file systems and restarts the machine (QEMU started with
// -no-reboot exits). It returns only on failure.
func Reboot() error {
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
		return fmt.Errorf("boot: reboot: %w", err)
	}
	return nil
}

// StartChild starts path with args (args[0] its name), sharing this
// process's standard input, output and error and environment, for a PID 1
// that supervises one child (the boot loader running a firmware slot).
// wait blocks until the child ends and says how; while it waits it also
// reaps any orphan handed to PID 1. kill ends the child with SIGKILL. Do
// not use it together with ReapChildren, which would take the child's
// status.
func StartChild(path string, args []string) (wait func() string, kill func(), err error) {
	pid, err := syscall.ForkExec(path, args, &syscall.ProcAttr{
		Env: os.Environ(), Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("boot: start %s: %w", path, err)
	}
	wait = func() string {
		for {
			var ws unix.WaitStatus
			got, err := unix.Wait4(-1, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return err.Error()
			}
			if got != pid {
				continue // an orphan
			}
			switch {
			case ws.Exited():
				return fmt.Sprintf("exit status %d", ws.ExitStatus())
			case ws.Signaled():
				return fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), ws.Signal())
			}
			return fmt.Sprintf("wait status %#x", uint32(ws))
		}
	}
	kill = func() { unix.Kill(pid, unix.SIGKILL) }
	return wait, kill, nil
}
