// Package app wires a phone together: it boots the board (as PID 1 on the
// qemu board: file systems, DHCP, TFTP provisioning), serves the virtual
// panel, starts the SIP user agent and the audio engine, runs the audio loop
// on the codec's clock and hands everything to the phone state machine.
// firmware/cmd/phoned is a thin main over it.
package app
