// Package config is the phone's configuration: the keys of docs/config.md,
// their defaults and their checks.
//
// A configuration file is UTF-8 text of "key = value" lines. A line whose
// first non-blank character is '#' is a comment; blank lines are ignored; a
// '#' anywhere else is part of the value (passwords may contain one). Keys
// are lower case and dotted; surrounding blanks of key and value are
// trimmed. The phone reads a common file, then its own file (<mac>.cfg), and
// a key in its own file overrides the common one (Load).
//
// Parse never yields a half-applied configuration: it works on a copy of the
// base and returns the base unchanged with an error if any line is bad. An
// unknown key is not an error but a Warning, so a newer file still provisions
// an older phone. Checks that involve two keys (rtp.port_min <= rtp.port_max)
// are made by Validate, which Load calls once both files are applied.
//
// Keys lists every key with its default and its meaning; the table in
// keys.go is the one place a key is defined.
package config
