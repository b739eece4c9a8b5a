package lab

import (
	"fmt"
	"net"
	"strconv"
)

// checkExternal checks Options.External: the phones' line 1 registers with
// that registrar (which is also their outbound proxy) instead of a
// development PBX. On the QEMU board the phones reach it as 10.0.2.2, the
// host's loopback seen from the guest, from behind QEMU's NAT: calls to them
// then need a registrar that keeps the REGISTER's source address
// (Kamailio's nathelper, fix_nated_register), which
// tools/interop/testdata/kamailio.cfg does with WITH_RTPENGINE (and its
// media through rtpengine: TestKamailioRtpengineQEMU); the sim board needs
// none.
func (l *Lab) checkExternal() error {
	host, port, err := net.SplitHostPort(l.opts.External)
	if err != nil {
		return fmt.Errorf("lab: external registrar: %w", err)
	}
	if _, err := strconv.Atoi(port); err != nil || (l.opts.Board == QEMU && host != "127.0.0.1" && host != "localhost") {
		return fmt.Errorf("lab: external registrar %q: want 127.0.0.1:PORT", l.opts.External)
	}
	return nil
}

func (l *Lab) externalPort() int {
	_, port, _ := net.SplitHostPort(l.opts.External)
	n, _ := strconv.Atoi(port)
	return n
}
