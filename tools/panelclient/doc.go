// Package panelclient drives a phone through its virtual panel (panel.md,
// version 1): the control lines and the audio stream. Tests, the demo and
// the terminal panel use it.
//
// Dial connects to "unix:/path/p.sock" or "tcp:host:port" (audio on the
// matching second address) and retries until the phone greets it with its
// ready line: a QEMU chardev socket accepts a connection before the guest is
// up, so only the ready line says the phone is there. Every line the phone
// sends is kept, so Wait finds a line that came before it was called; Mark
// and WaitAfter wait only for lines after a point.
package panelclient
