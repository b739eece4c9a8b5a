package testtool

import (
	"path/filepath"
	"testing"
	"time"
)

// PulseAudio starts a PulseAudio server (Debian's pulseaudio) for the
// test alone: in the foreground, no configuration read, its native
// protocol on a unix socket in a temporary folder with anonymous access,
// and a null sink for each of sinks (a sink that plays into nothing; its
// NAME.monitor source records what it played). It returns the server
// address ("unix:PATH") once the socket is there; the server is killed when
// the test ends. Without pulseaudio the test stops as Need says.
func PulseAudio(t testing.TB, sinks ...string) (server string) {
	t.Helper()
	bin := Need(t, "pulseaudio")
	dir := t.TempDir()
	sock := filepath.Join(dir, "native")
	args := []string{"--daemonize=no", "-n", "--exit-idle-time=-1", "--use-pid-file=no", "--disable-shm=yes",
		"--log-target=stderr", "--log-level=info",
		"--load=module-native-protocol-unix socket=" + sock + " auth-anonymous=1"}
	for _, s := range sinks {
		args = append(args, "--load=module-null-sink sink_name="+s)
	}
	// HOME and XDG_RUNTIME_DIR in the test's folder: the server writes its
	// cookie and runtime files there, not in the user's.
	DaemonEnv(t, "pulseaudio", bin, args, []string{"HOME=" + dir, "XDG_RUNTIME_DIR=" + dir},
		"Daemon startup complete", 15*time.Second)
	return "unix:" + sock
}
