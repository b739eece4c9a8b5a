// Package provision fetches, checks, keeps and applies the phone's
// configuration.
//
// # TFTP
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
//
// # Provisioner
//
// A Provisioner does what a desk phone does with those files, from a Source
// (TFTPSource on a phone, DirSource on the sim board):
//
//   - Boot fetches the files, checks their signatures when a key is trusted,
//     loads and validates them (config.LoadFiles: a bad value is refused
//     with its file and line), and stores them in a storage.Store when they
//     changed. When the server is down or a file is refused, it says why and
//     boots from the last good configuration in the Store.
//   - Run fetches again every provision.resync_minutes and when Resync is
//     called (a SIP NOTIFY with Event: check-sync). A new configuration is
//     stored at once and handed to Apply when Idle reports no call is up.
//     A failed resync keeps the current configuration and is retried after
//     RetryMin, doubling.
//
// Signatures: each file may have a detached Ed25519 signature next to it,
// <file>.sig, the base64 signature of "deskphone-config-v1\n", the file's
// name, "\n" and its bytes (Sign, Verify): binding the name means a file
// signed for one phone cannot be served to another. See Provisioner for
// which key is trusted.
package provision
