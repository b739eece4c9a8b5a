// Package provision writes the configuration files for a fleet of phones
// from a CSV file and a common template, ready to be served by a standard
// TFTP server (docs/provisioning.md): the common file (phone.cfg) and one
// <mac>.cfg per phone, each optionally signed with an Ed25519 key
// (<file>.sig, as firmware/provision checks it).
//
// The CSV's header row names the columns: mac and user are required;
// password and display_name are optional; any further column is a
// configuration key (docs/config.md), written into that phone's file when
// its cell is not empty. Each phone's pair of files is loaded with the
// firmware's own configuration code before anything is written, so a file
// the phone would refuse is never written: a bad MAC, a MAC or user used
// twice, an unknown key, a bad value, each reported with the CSV line.
package provision
