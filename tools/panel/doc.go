// Package panel is the terminal panel: a person sees a phone's display rows,
// lamps, ringer, tone, registration and call state on a small screen redrawn
// with ANSI sequences, and works its keys and hook from the keyboard. It
// talks to the phone's virtual panel (panel.md) through tools/panelclient;
// tools/cmd/panel is the binary.
//
// Model holds what the phone has said (Apply takes its lines) and Screen
// renders it as text, so both are tested without a terminal; KeyLines maps
// keyboard input to control lines; Run ties them to a terminal.
package panel
