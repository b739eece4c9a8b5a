// Package update keeps two firmware slots (A/B) and a boot record on the
// phone's state device, installs signed images into the slot the phone
// does not run from, and is the boot loader that starts the slot the
// record names and rolls a bad one back (docs/DESIGN.md, "Firmware
// updates").
//
// An image is a 512-byte header (Build, ParseHeader, Verify) and the
// phoned binary. The header names the version, the architecture, the
// payload's length and SHA-256, and carries an Ed25519 signature over
// "deskphone-firmware-v1\n" and the rest of the header, so a firmware
// signature never passes for a configuration file's.
//
// Updater.Install streams the download (Fetch picks the transport by the
// URL's scheme) into the other slot, checking the header before anything
// is written, syncs and reads the slot back against the signed hash, and
// only then writes the record, unconfirmed with a number of tries.
// Updater.Confirm marks the running slot good once the phone registered.
// Loader.Run, in PID 1, counts a try down before each start of an
// unconfirmed slot, kills one still unconfirmed at its deadline, and with
// no tries left goes back to the slot before (Next, Abandon), leaving the
// note "update to X failed, rolled back to Y".
package update
