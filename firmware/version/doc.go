// Package version reads and orders firmware release numbers,
// MAJOR.MINOR.PATCH (1 to 4 decimal numbers): the version a firmware image
// carries (firmware/update) and firmware.version names (firmware/config),
// in one place so both read them alike.
package version
