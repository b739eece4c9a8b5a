// Package perf is the project's benchmark of the whole phone against
// baresip (`make perf`, tools/cmd/perf): not one frame path in a loop, but
// the processes as they run a call, read from /proc.
//
// # What runs
//
// On 127.0.0.1 only: the development PBX (tools/pbx, in this process),
// two sim-board phones (tools/lab: phoned built for the host, its virtual
// panel on a unix socket) as 1001 and 1002, and two baresips (Debian's,
// started through tools/interop) as 1003 and 1004, all registered with
// that PBX. First every process is measured registered and idle, on hook
// (Options.Idle, 5 s). Then baresip 1003 calls 1004 (a ctrl_tcp "dial";
// 1004 answers by itself, answermode=auto) and phoned 1001 calls 1002
// through the panels (hook off, dial, 1002 rings, hook off); each phone's
// microphone gets a tone over the panel's audio stream. With both calls
// up, all four are measured over the same window (Options.Call, 25 s).
// Then both pairs hang up and everything stops; every process is bounded
// in time (baresip -t, the lab's Close).
//
// The sim phones are set to G.711 with the handset at 8 kHz
// (audio.codecs = PCMU,PCMA, audio.wideband = off), as baresip is.
//
// baresip is set up as lean as its virtual audio devices allow
// (leanConfig): G.711 only, 8 kHz mono at both ends of its pipeline (no
// resampling), aubridge as earpiece and microphone of one device, so that
// each side sends back what it receives: one thread per call moves a frame
// each way every 20 ms, as a sound card's clock would, with no file, sine
// or level computing; no status line, no ringback files. Its audio is
// silence both ways (G.711 costs the same for any sample), which is why
// its RTP is proven by RTCP rather than by a tone.
//
// # That the calls were up
//
// Report.Pairs: for each pair the PBX's ladder must show the callee's
// 200 OK to the INVITE passed to the caller and the caller's ACK passed
// to the callee, and the codec is read from that 200 OK's SDP (the first
// format of m=audio and a=ptime). phoned's audio is proven by each
// earpiece (a second recorded over the panel after the window) holding the
// other phone's tone; baresip's by an RTCP report on each side, delivered
// as a ctrl_tcp CALL_RTCP event, in which it has sent RTP packets and its
// peer says it has sent them too. Report.Check fails the run otherwise.
// phoned's earpieces are read frame by frame for that second, and the
// arrivals give each phone's frame clock: Pair.FramePhase is how long after
// a tick of the caller's the callee's ticks.
//
// # The figures, per process (Figures)
//
// Two samples of /proc, at the start and the end of a window, give:
//
//   - rss MB, hwm MB: VmRSS and VmHWM of /proc/PID/status at the window's
//     end: resident memory now, and the most it has been since start;
//     anon and file split the resident memory (RssAnon: heap, stacks and
//     other private memory; RssFile: the pages of the binary and its
//     shared libraries that are mapped in, counted whole even when other
//     processes share them).
//   - used MB: the window's working set, the resident pages the process
//     used in it: /proc/PID/clear_refs ("1") at the window's start clears
//     their referenced bits, and Referenced of /proc/PID/smaps_rollup at
//     its end counts those used since. VmRSS also holds every page the
//     process once touched that the kernel has not taken back (a Go
//     binary's code and tables touched while a call was set up, say):
//     used is what staying in the call needs.
//   - threads: Threads of /proc/PID/status at the end.
//   - cpu ms/s: utime+stime of /proc/PID/stat (fields 14 and 15, every
//     thread's, exited ones included) over the window, in ms of CPU per
//     second (10 ms/s is 1% of one core). They count in ticks of 10 ms
//     (USER_HZ), so a short window is coarse.
//   - sched ms/s: the same from the scheduler's nanoseconds, the first
//     field of /proc/PID/task/TID/schedstat summed over the threads alive
//     at the end: precise, but a thread that exited in the window is
//     missing from it.
//   - wake-ups/s: voluntary_ctxt_switches + nonvoluntary_ctxt_switches of
//     every /proc/PID/task/TID/status, per second. /proc/PID/status alone
//     has only the main thread's. A voluntary switch is a thread going to
//     sleep (and so, once woken, a wake-up); an involuntary one is the
//     thread preempted. Together they are how often the process takes a
//     CPU, the measure DESIGN.md's budget (at most 2 per frame) is about.
//     Threads that start in the window count from zero; those that exit
//     in it are lost (Figures.ExitedThreads says how many).
//   - per frame: wake-ups/s divided by 50, the 20 ms frames of a second.
//
// The ratio rows are phoned's figure over baresip's, caller over caller
// and callee over callee; "-" where baresip's is 0 (idle, baresip sleeps
// in epoll_wait until its next timer, and may not wake at all in a
// window of a few seconds). With -threads each
// process's threads follow it, most wake-ups first, each with the system
// call it was in at the window's end (/proc/PID/task/TID/syscall), a
// snapshot and only a hint, as Go's threads change roles: Go's sysmon
// sleeps in nanosleep (or futex when parked; it is usually the thread
// after the main one, TID PID+1), as does a Go thread spinning to steal
// work; idle Go threads sleep in futex, the network poller in
// epoll_pwait; baresip's main loop in epoll_wait and aubridge's thread
// in pselect6 (its sleep between polls of a few ms).
//
// # What the figures include
//
// The sim phone's sound card is the panel's audio stream, which this tool
// moves from the audio socket to a file that it and the phone map
// (panel/4's shared audio, panelclient's ShareAudio): every frame the
// phone copies its earpiece into one ring and takes the microphone (what
// this tool's 20 ms ticker wrote) from the other, as a codec chip shares a
// DMA ring with its driver and as baresip's aubridge moves its audio
// inside its process, so no frame costs the phone a system call to its
// sound card. With -socket (Options.Socket) the stream stays on the
// socket, a write and a read a frame in phoned's figures, as a hardware
// phone's include ALSA's. Either way this tool takes the earpiece every
// 100 ms (panelclient's SetEarpieceBatch), its end of the socket out of
// its own runtime's epoll, so a frame the phone sends wakes nothing here:
// a read woken by each frame is put by the kernel on the writer's
// processor and preempted the phone there, a cost no codec chip adds.
// The media check after the window takes each frame from the socket again
// (UnshareAudio), since it times the frames.
// The two phones share the machine: a callee whose frame runs a moment
// after the caller's on the same processor finds the caches warm from it
// (the same binary's code, the kernel's socket paths) and costs less than
// a phone alone, so with a FramePhase of a few ms the caller's CPU is the
// one a phone on a desk pays. The PBX, the panel clients and the tone
// players run in this tool's process and are not measured; the machine
// is shared, so the load averages before and after are printed with the
// figures, which are only comparable within one run.
package perf
