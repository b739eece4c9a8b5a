// Package phone is the desk phone's state machine: it turns what a person does
// (hook, keys) and what the network says (registrations, calls) into SIP
// actions, audio streams and tones, and tells the person what happens through
// a hal.Observer. One goroutine, Run, owns all of its state; the user agent,
// the keypad and timers post events to it.
package phone
