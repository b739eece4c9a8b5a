// Package sntp asks NTP servers for the time, as an SNTP client (RFC 4330,
// the packet of RFC 5905 section 7.3), so a phone without a battery-backed
// clock (the Raspberry Pi boards) shows the time, checks certificates'
// validity and stamps its log.
//
// Query sends one client request (mode 3, version 4) and checks the answer
// the way RFC 4330 section 5 asks: a server reply (mode 4), version 3 or 4,
// not a kiss-o'-death (stratum 0, whose code it returns as *KissError),
// synchronised (leap indicator not 3, stratum 1 to 15), our transmit time
// echoed as its origin time (so an old or spoofed reply is not taken), and
// a transmit time set. It returns the clock offset and the round-trip
// delay of RFC 5905 section 8, the round trip timed on the monotonic
// clock.
//
// Clock keeps the offset and, run as the phone's clock, polls: at start,
// then every hour while the server answers, and after a failure again in
// 5 s doubling to at most 5 minutes, each wait spread by up to a tenth at
// random so a building of phones does not ask in the same second. Where
// it is allowed to (the phone as PID 1), it sets the system clock, so
// everything on the phone sees the time; on the sim board it only keeps
// the offset and the host's clock is left alone.
//
// The server is the configuration's ntp.server, else the first from DHCP
// option 42 (firmware/netboot's Lease.NTP).
package sntp
