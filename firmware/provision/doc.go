// Package provision fetches the phone's configuration files over TFTP.
//
// The client reads files in octet mode (RFC 1350) and asks for the blksize
// (RFC 2348), tsize and timeout (RFC 2349) options through RFC 2347 option
// negotiation; a server that ignores options is served in 512-byte blocks.
// It retransmits its last packet only when its own timer fires, doubling
// the wait each time and giving up after a bounded number of tries, and
// answers each DATA with exactly one ACK, so it never feeds the Sorcerer's
// Apprentice syndrome. Packets from a foreign transfer ID get an error and
// are otherwise ignored.
//
// Fetch gets the common file (phone.cfg by default) and then the phone's
// own file, <mac>.cfg with the MAC as 12 lower-case hex digits. A missing
// own file is logged and is not an error.
package provision
