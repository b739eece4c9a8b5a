// Package lab runs phones the way developers and tests need them: the
// development PBX and a number of phones, booted in QEMU (the qemu board,
// provisioned over QEMU's TFTP) or started on the host (the sim board), each
// driven through its virtual panel. It also holds the basic call that `make
// demo` shows and `make test` checks: A calls B, B answers, a tone crosses
// each way, A hangs up; with the SIP ladder the PBX saw and the audio each
// side heard.
package lab
