// Command bootprobe is a minimal PID 1 for QEMU that exercises the phone's
// boot path: it mounts the essentials, gets a DHCP lease, fetches the
// configuration files over TFTP, prints what it got on the console and
// powers off. The qemu package's test boots it.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/deskphone/deskphone/firmware/boot"
	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/netboot"
	"github.com/deskphone/deskphone/firmware/provision"
)

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stdout, format+"\n", a...)
}

func main() {
	start := time.Now()
	if !boot.IsPID1() {
		logf("bootprobe: not PID 1; this program is an init for QEMU")
		os.Exit(2)
	}
	code := run(start)
	logf("BOOTPROBE-DONE %d", code)
	if err := boot.PowerOff(); err != nil {
		logf("bootprobe: %v", err)
	}
	select {} // PID 1 must not exit
}

func run(start time.Time) int {
	if err := boot.MountEssentials(logf); err != nil {
		logf("bootprobe: %v", err)
	}
	boot.ReapChildren()
	if err := boot.SetHostname("bootprobe"); err != nil {
		logf("bootprobe: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lease, err := netboot.Up(ctx, "eth0", logf)
	if err != nil {
		logf("bootprobe: %v", err)
		return 1
	}
	logf("LEASE addr=%s router=%s tftp=%s bootfile=%s mac=%s", lease.Addr.String(), lease.Router, lease.Server, lease.BootFile, lease.MAC)
	common, own, err := provision.Fetch(ctx, lease.Server, lease.BootFile, lease.MAC, logf)
	if err != nil {
		logf("bootprobe: %v", err)
		return 1
	}
	fetched := time.Since(start)
	uptime, _ := os.ReadFile("/proc/uptime")
	logf("FETCHED process=%dms uptime=%ss", fetched.Milliseconds(), strings.Fields(string(uptime) + " ?")[0])
	logf("COMMON-BEGIN\n%sCOMMON-END", common)
	logf("OWN-BEGIN\n%sOWN-END", own)
	cfg, warns, err := config.Load(common, own)
	if err != nil {
		logf("bootprobe: %v", err)
		return 1
	}
	for _, w := range warns {
		logf("%s", w)
	}
	logf("CONFIG line1=%s@%s sip.port=%d public=%s", cfg.Lines[0].User, cfg.Lines[0].Registrar, cfg.SIPPort, cfg.PublicAddress)
	if err := echo(ctx); err != nil {
		logf("bootprobe: %v", err)
		return 1
	}
	return 0
}

// echo answers one UDP datagram on each port named by bootprobe.echo=P,P,...
// on the kernel command line, so the test can check the runner's port
// forwards reach the guest.
func echo(ctx context.Context) error {
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return err
	}
	var ports []string
	for _, f := range strings.Fields(string(cmdline)) {
		if v, ok := strings.CutPrefix(f, "bootprobe.echo="); ok {
			ports = strings.Split(v, ",")
		}
	}
	var conns []*net.UDPConn
	for _, p := range ports {
		c, err := net.ListenPacket("udp4", ":"+p)
		if err != nil {
			return err
		}
		defer c.Close()
		conns = append(conns, c.(*net.UDPConn))
	}
	logf("ECHO-READY %s", strings.Join(ports, ","))
	errc := make(chan error, len(conns))
	for _, c := range conns {
		go func() {
			deadline, _ := ctx.Deadline()
			c.SetReadDeadline(deadline)
			b := make([]byte, 1500)
			n, from, err := c.ReadFromUDP(b)
			if err == nil {
				_, err = c.WriteToUDP(append([]byte("echo:"), b[:n]...), from)
			}
			if err == nil {
				logf("ECHOED %s from %s", c.LocalAddr(), from)
			}
			errc <- err
		}()
	}
	for range conns {
		if err := <-errc; err != nil {
			return err
		}
	}
	return nil
}
