// Package interop runs the phone against SIP software nobody here wrote:
// Kamailio as registrar and record-routing proxy with digest authentication,
// and baresip as the far end of a call. Each peer runs as a child process on
// 127.0.0.1 with a configuration written by the test, bounded in time.
// The failover tests run two Kamailio instances behind a domain whose NAPTR
// and SRV records dnsmasq serves (internal/testtool.DNSMasq). The NAT tests
// put rtpengine (internal/testtool.StartRtpengine) beside Kamailio
// (KamailioOptions.Rtpengine) for a phone in QEMU, or one that advertises
// QEMU's 10.0.2.2, calling baresip and called by it.
//
// The tests skip when a peer's binary is missing (tools/setup/install-deps.sh
// installs them), except when the environment variable CI is set, where a
// missing peer is a failure.
package interop
