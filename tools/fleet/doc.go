// Package fleet is the fleet benchmark (`make fleet N=1000 C=50`,
// tools/cmd/fleet): a building's phones on the registrar a business would
// run, booting at once, calling, and resyncing. It is a benchmark, not a
// timed test: TestRun runs it small (20 phones, 4 calls) in make peers so
// that it never rots, and checks only that everything worked.
//
// # What runs
//
// On loopback only. Kamailio (Debian's, started through tools/interop's
// starter with testdata/kamailio.cfg and WITH_SUBSCRIBERS) as registrar
// (usrloc, in memory) and record-routing proxy with digest auth; every
// phone is a subscriber with its own random password, in an htable
// loaded from a db_text table at start. tftpd-hpa (in.tftpd, through
// firmware/provision/tftpdtest.Serve) serves the common file and one
// <mac>.cfg per phone, written by tools/provision from a generated CSV
// (mac, user, password, display_name), exactly as an operator would
// with tools/cmd/provision.
//
// The N phones are the real firmware: app.Run on the sim board, each with
// its own loopback address (127.77.x.y, as a building's phones have their
// own), its own SIP and RTP sockets, its own panel (a unix socket), and
// its provisioning over TFTP from its MAC (app.Options.TFTP). They share
// this process and its Go runtime (app.Options.SharedProcess), which a
// thousand processes on two cores could not: a thousand idle phones cost
// about 320 MB resident and under 20 ms of CPU a second here. The SIP
// port and RTP range are the same at every address, held from
// internal/testtool so that nothing else binds them.
//
// # The phases
//
//  1. Boot: every phone starts at a random moment within Options.Spread
//     (1 s), fetches its two files, and registers (REGISTER, 401,
//     REGISTER with credentials, 200).
//  2. A building power cut: every phone stops at once, as without power
//     (app.Options.PowerCut: sipua.UA.Halt, no unregistration, so
//     Kamailio keeps the old bindings), and they boot again within
//     Spread. The time until all N are registered, each phone's own time
//     (p50, p95), and at Kamailio the REGISTERs, the most in one second,
//     the 401s, the 5xx and the retransmitted REGISTERs (a Call-ID and
//     CSeq seen twice: a request or its answer lost); at the phones the
//     failed attempts and the new attempts after a failure (their logs).
//  3. C concurrent calls through Kamailio: phone 2i calls phone 2i+1 (hook
//     off, dial, ring, answer, on the panels); media goes peer to peer.
//     Options.Sample of them (4) are placed while the others are up by
//     tools/lab's BasicCallVia, a tone each way measured (Goertzel) in the
//     far earpiece; the process and Kamailio are measured over that
//     window. A call that does not connect at both ends, or whose tones do
//     not cross, is a failed call.
//  4. A resync storm: a NOTIFY with Event: check-sync to every phone
//     through Kamailio at once (sent again each second until answered, as
//     a SIP client over UDP would: a burst of a thousand overflows
//     Kamailio's socket buffer); each phone fetches both files again and
//     finds them unchanged (its log says so); in.tftpd's CPU, with that of
//     the transfers it forks, over the storm.
//
// # The figures
//
// CPU is utime+stime from /proc (tools/perf's readers), in ms per second
// of the window (1000 is one core); memory is VmRSS. "phones" is this
// whole process: the N phones, the panel clients of the phones in calls,
// and the tool; per phone is its RSS over N. Kamailio's is its main
// process and its workers, summed (its shared memory is counted in each).
// The machine is shared: each phase prints the load average at its start,
// and the figures are only comparable within a run.
package fleet
