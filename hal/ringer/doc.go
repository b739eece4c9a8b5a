// Package ringer rings a bell, buzzer or relay on one GPIO output with a
// country's ring cadence: the pin is driven high (or, on a pin with PWM,
// given a square wave at the buzzer's frequency) for each "on" part of the
// cadence and low for each "off" part, repeating until Silence.
//
// Cadences (on, off, ... in ms) follow ITU-T E.180 supplement 2; "normal"
// is the phone's default and maps to the board's country (us unless set).
//
//	us, ca    2000 on 4000 off
//	uk, au    400 on 200 off 400 on 2000 off
//	de, nl    1000 on 4000 off
//	fr        1500 on 3500 off
//	it        1000 on 4000 off
//	jp        1000 on 2000 off
//	se        1000 on 5000 off
//	continuous  on until Silence
package ringer
