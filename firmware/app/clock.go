package app

import (
	"context"
	"net"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/sntp"
)

// newClock is the phone's wall clock (firmware/sntp). A phone sets the
// system clock from it (PID 1 may: the Raspberry Pi boards have no
// battery-backed clock and start in 1970; certificates and the log need the
// time); the sim board keeps an offset and leaves the host's clock alone.
func newClock(sim bool, logf func(string, ...any)) *sntp.Clock {
	c := &sntp.Clock{Logf: logf}
	if !sim {
		c.Set = sntp.SetSystem
	}
	return c
}

// ntpServers is where the clock is set from: ntp.server, else the servers
// of DHCP option 42.
func ntpServers(cfg config.Config, dhcp []net.IP) []string {
	if cfg.NTPServer != "" {
		return []string{cfg.NTPServer}
	}
	s := make([]string, 0, len(dhcp))
	for _, ip := range dhcp {
		s = append(s, ip.String())
	}
	return s
}

// runClock keeps c set until ctx ends, or says once why it cannot.
func runClock(ctx context.Context, c *sntp.Clock, servers []string, step func(string, ...any)) {
	if len(servers) == 0 {
		step("clock: no NTP server (ntp.server, DHCP option 42): the display shows the board's own clock, if it has one")
		return
	}
	step("clock: SNTP from %v", servers)
	c.Run(ctx, func() []string { return servers })
}
