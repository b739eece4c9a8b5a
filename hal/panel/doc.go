// Package panel is the virtual panel of panel.md, version 4: the hal of the
// qemu and sim boards. A Server is at once the phone's hal.Input (key and
// hook events from the control stream), hal.Observer (each method sends its
// panel.md line to the connected client) and hal.Codec (the audio stream: the
// panel is the codec, so its frame clock paces the phone's audio loop).
//
// Two byte streams per phone: control (UTF-8 text lines) and audio (s16le
// mono PCM, both ways, at the client's rate: 8000 samples/s, or 16000 once
// it says "audio rate 16000"; where the codec's rate, Open's, differs,
// Exchange converts with internal/resample). Listen serves them on sockets
// (sim board); OpenVirtio serves them on the virtio-serial ports named
// "panel" and "panel.audio" (qemu board). One client at a time per stream; a
// new client replaces the old one and is greeted with
// "ready BOARD VERSION panel/4" and the audio clock's state ("audio on" or
// "audio off"), then the replay of what the phone shows (state.go: lines,
// calls, ringer, tone, lamps, display rows, voicemail) between "state
// begin" and "state end"; a "state" request replays it again. The codec is
// a hal.PCM: Stop stops the frame clock (nothing wakes the phone for audio
// while it is stopped), Start starts it again. A client on a local socket
// can move the audio stream to a file that both map (panel/4's "audio shm",
// shared.go): Exchange then copies a frame each way, with no system call.
//
// Nothing here blocks the phone: observer lines go through a bounded queue
// per client and are dropped when the client is slow or absent; earpiece
// frames are dropped when no audio client can take them; microphone samples
// are kept in a fixed ring of about 200 ms (the oldest dropped), and silence
// is played where none has arrived. Exchange does not allocate.
package panel
