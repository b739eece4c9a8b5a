package boot

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/deskphone/deskphone/internal/testtool"
)

func TestMountAll(t *testing.T) {
	tests := []struct {
		name     string
		fail     map[string]error // target -> mount error
		mkdirErr map[string]error
		wantErr  []string
		wantLog  []string
	}{
		{name: "all good", wantLog: []string{"boot: mounted proc on /proc", "boot: mounted devpts on /dev/pts", "boot: mounted tmpfs on /run"}},
		{name: "already mounted", fail: map[string]error{"/dev": unix.EBUSY}, wantLog: []string{"boot: devtmpfs already mounted on /dev"}},
		{name: "sysfs fails, rest goes on", fail: map[string]error{"/sys": unix.EPERM},
			wantErr: []string{"boot: mount sysfs on /sys: operation not permitted"},
			wantLog: []string{"boot: mounting sysfs on /sys failed: operation not permitted; carrying on without device information in /sys", "boot: mounted tmpfs on /run"}},
		{name: "mkdir fails", mkdirErr: map[string]error{"/run": unix.EROFS},
			wantErr: []string{"boot: mkdir /run"}, wantLog: []string{"boot: creating /run failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log, mounted []string
			logf := func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }
			mkdir := func(p string, _ os.FileMode) error { return tt.mkdirErr[p] }
			mnt := func(src, target, fstype string, flags uintptr, data string) error {
				if err := tt.fail[target]; err != nil {
					return err
				}
				mounted = append(mounted, target)
				return nil
			}
			err := mountAll(essentials, logf, mkdir, mnt)
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
			all := strings.Join(log, "\n")
			for _, w := range tt.wantLog {
				if !strings.Contains(all, w) {
					t.Errorf("log lacks %q:\n%s", w, all)
				}
			}
			if len(log) != len(essentials) {
				t.Errorf("%d log lines for %d steps", len(log), len(essentials))
			}
			if len(tt.fail) == 0 && len(tt.mkdirErr) == 0 && strings.Join(mounted, " ") != "/proc /sys /dev /dev/pts /tmp /run" {
				t.Errorf("mount order %v", mounted)
			}
		})
	}
	if err := mountAll(essentials[:1], nil, func(string, os.FileMode) error { return nil },
		func(string, string, string, uintptr, string) error { return unix.ENODEV }); !errors.Is(err, unix.ENODEV) {
		t.Errorf("error does not wrap: %v", err)
	}
}

func TestReapChildren(t *testing.T) {
	ReapChildren()
	ReapChildren() // idempotent
	pid, err := syscall.ForkExec(testtool.Need(t, "true"), []string{"true"}, &syscall.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	// Without a reaper the child stays a zombie; with one /proc/PID goes.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			t.Fatalf("child %d not reaped: %s", pid, st)
		}
		runtime.Gosched()
	}
}

func TestIsPID1(t *testing.T) {
	if IsPID1() != (os.Getpid() == 1) {
		t.Fatal("IsPID1 disagrees with Getpid")
	}
}
