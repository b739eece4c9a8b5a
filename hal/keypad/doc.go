// Package keypad scans a key matrix (3x4 or 4x4; any size up to 8x32)
// wired to GPIOs: rows are driven low one at a time (the others left as
// inputs with pull-ups, so two keys in one column never short two driven
// rows), columns are read as inputs with pull-ups, a low column is a key
// down at that crossing.
//
// Each key is debounced on its own (its raw state must hold for the
// debounce time before it counts), a key held past the long-press time
// sends one extra hal.KeyEvent with Long set, and scans that could hold a
// ghost key (three keys at three corners of a rectangle make the fourth
// read as down in a matrix without diodes) are not believed: the keys keep
// their last state until the ambiguity goes.
//
// The driver takes periph's gpio.PinIO (rows) and gpio.PinIn (columns), so
// periph's gpiotest fakes them; Step is the scanner's whole logic for one
// scan at a given time, Run calls it on a ticker.
package keypad
