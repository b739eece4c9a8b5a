// Command guest is the /init of the QEMU test of the virtio-serial panel: a
// tiny phone that answers the panel's lines and echoes the microphone to the
// earpiece, then powers the VM off on key 0.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/hal/panel"
)

func main() {
	os.MkdirAll("/dev", 0o755)
	os.MkdirAll("/sys", 0o755)
	syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	syscall.Mount("sysfs", "/sys", "sysfs", 0, "")
	defer syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)

	s := panel.New("qemu", "guest")
	var state atomic.Value
	state.Store("idle")
	var frames atomic.Int64
	s.SetStatus(func() string {
		return "phone=" + state.Load().(string) + " calls=0 frames=" + strconv.FormatInt(frames.Load(), 10)
	})
	// Lines while no host client is there must not block the phone.
	for range 5000 {
		s.Log("nobody listens")
	}
	if err := s.OpenVirtio(); err != nil {
		fmt.Println("GUEST FAIL", err)
		return
	}
	for range 5000 {
		s.Log("nobody listens yet")
	}
	if err := s.Open(8000, 160); err != nil {
		fmt.Println("GUEST FAIL", err)
		return
	}
	go func() {
		ear := make([]int16, 160)
		mic := make([]int16, 160)
		for s.Exchange(ear, mic) == nil {
			copy(ear, mic) // echo
			frames.Add(1)
		}
	}()
	for e := range s.Events() {
		fmt.Println("GUEST event", e.Kind, e.Key)
		switch {
		case e.Kind == hal.HookOff:
			state.Store("dialtone")
			s.Phone("dialtone")
		case e.Kind == hal.HookOn:
			state.Store("idle")
			s.Phone("idle")
		case e.Key == "0":
			s.Log("bye")
			time.Sleep(200 * time.Millisecond) // let the line out
			return
		default:
			s.Display(0, "key "+e.Key)
		}
	}
}
