package piimage

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/firmware/storage"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/pbx"
	"github.com/deskphone/deskphone/tools/piimage/disk"
	"github.com/deskphone/deskphone/tools/provision"
	"github.com/deskphone/deskphone/tools/qemu"
)

// The Pi image boots on QEMU's Raspberry Pi 3B: the kernel, device tree
// and initramfs are taken out of the image's boot partition and the image
// is the SD card. phoned picks the board from the device tree, loads the
// image's modules, finds the phone's sound card and GPIO lines, gets a
// lease on the USB network, provisions over TFTP, keeps the configuration
// on the SD card's state partition, registers with the development PBX and
// rings for SIPp. The Zero 2 W has the 3B's SoC (BCM2837), so its device
// tree boots on the same machine, with the USB network standing in for
// the adapter a Zero 2 W needs, and so does the 3B+'s (the rpi3b board;
// the USB network stands in for its LAN chip); without the SD card, though: its tree
// puts the card on the SDHCI controller, which QEMU 7.2 does not route the
// card to (commands time out), so that run checks the rest.
func TestImageBootsOnRaspi3b(t *testing.T) {
	testtool.Long(t, "make peers") // boots QEMU
	for _, c := range []struct {
		dtb, board, model string
		sd                bool
	}{
		{"bcm2837-rpi-3-b.dtb", "rpi3b", "Raspberry Pi 3 Model B", true},
		{"bcm2837-rpi-3-b-plus.dtb", "rpi3b", "Raspberry Pi 3 Model B+", true},
		{"bcm2837-rpi-zero-2-w.dtb", "rpizero2w", "Raspberry Pi Zero 2 W", false},
	} {
		t.Run(strings.TrimSuffix(c.dtb, ".dtb"), func(t *testing.T) { bootOnRaspi3b(t, c.dtb, c.board, c.model, c.sd) })
	}
}

func bootOnRaspi3b(t *testing.T, dtbName, board, model string, withSD bool) {
	img := image(t)
	_, files, err := disk.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kernel, dtb, initrd := out(KernelFile), out(dtbName), out(InitramfsFile)
	// QEMU wants an SD card whose size is a power of two.
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	sd := filepath.Join(dir, "sd.img")
	if err := os.WriteFile(sd, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sd, 512<<20); err != nil {
		t.Fatal(err)
	}
	stateLines := []string{
		`provisioning: the last good configuration is kept on /dev/mmcblk0p2`,
		`provision: configuration stored \(generation \d+\)`,
	}
	if !withSD {
		sd = ""
		stateLines = []string{`provisioning: no state device \("/dev/mmcblk0p2"\)`}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	users := pbx.DefaultUsers()
	p, err := pbx.New(pbx.Config{Listen: "127.0.0.1:0", Realm: "deskphone", Users: users, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sipPort, rtpMin := testtool.Port(t), testtool.EvenPorts(t, 4) // forwarded by QEMU, held for the test
	mac := "52:54:00:12:34:b1"
	tftp := filepath.Join(dir, "tftp")
	os.Mkdir(tftp, 0o755)
	common := fmt.Sprintf("line.1.registrar = 10.0.2.2:%d\nline.1.expires = 300\nsip.port = %d\nrtp.port_min = %d\nrtp.port_max = %d\nnat.public_address = 10.0.2.2\n",
		p.Addr().Port, sipPort, rtpMin, rtpMin+3)
	own := fmt.Sprintf("line.1.user = 1001\nline.1.display_name = Pi 1001\nline.1.password = %s\n", users["1001"])
	os.WriteFile(filepath.Join(tftp, "phone.cfg"), []byte(common), 0o644)
	os.WriteFile(filepath.Join(tftp, lab.MACFile(mac)), []byte(own), 0o644)

	// power boots the Pi on the card; again on the same card for the update.
	power := func(con *qemu.Console) (*qemu.Instance, error) {
		return qemu.Start(ctx, kernel, initrd, qemu.Phone{
			Name: board, Machine: "raspi3b", DTB: dtb, SD: sd, MAC: mac,
			TFTPDir: tftp, BootFile: "phone.cfg", SIPPort: sipPort, RTPMin: rtpMin, RTPMax: rtpMin + 3,
			Console: con,
		})
	}
	con := &qemu.Console{}
	start := time.Now()
	vm, err := power(con)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		vm.Stop()
		if t.Failed() || testing.Verbose() {
			t.Logf("console:\n%s", con)
		}
	}()
	rctx, rcancel := context.WithTimeout(ctx, 90*time.Second)
	defer rcancel()
	if err := p.WaitRegistered(rctx, "1001"); err != nil {
		t.Fatalf("1001 on the Pi image did not register: %v", err)
	}
	t.Logf("QEMU start to registered: %v", time.Since(start).Round(time.Millisecond))

	for _, re := range append([]string{
		`board ` + board + ` picked by the device tree's model "` + regexp.QuoteMeta(model) + `"`,
		`boot: \d+ kernel modules loaded in \S+, 0 failed`,
		`hardware: sound card: playback hw:CARD=phone,DEV=0 \(/dev/snd/pcmC0D0p\), capture hw:CARD=phone,DEV=1 \(/dev/snd/pcmC0D1c\); takes 16000 Hz, 2 channel\(s\), period 160 frames, buffer \d+`,
		`hardware: keypad 3x4 loaded`,
		`hardware: hookswitch on GPIO22 loaded`,
		`hardware: ringer on GPIO23 loaded`,
		`hardware: message lamp on GPIO24 loaded`,
		// QEMU 7.2's raspi3b has no model of the BCM2835 I2C controller
		// (nor a WM8960 behind it): the codec part reports, and the phone
		// goes on without audio.
		// The alias in boards/phone.dtsi: bus 1 is the header's I2C1.
		`hardware: I2C bus 1 is /soc/i2c@7e804000`,
		`hardware: wm8960 codec at 0x1a on I2C bus 1, PCM [^\n]* (loaded|failed: [^\n]*)`,
		`network: 10\.0\.2\.15/24 on usb0`,
	}, stateLines...) {
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		line, err := con.WaitFor(wctx, regexp.MustCompile(re), vm.Done())
		wcancel()
		if err != nil {
			t.Error(err)
			continue
		}
		t.Log(line)
	}

	// SIPp calls the Pi phone (through the forwarded SIP port): it rings,
	// driving the ringer pin, and the CANCEL silences it (487).
	mark := len(con.String())
	if err := sippCall(ctx, t, sipPort, "../../sipua/testdata/sipp/uac_cancel.xml"); err != nil {
		t.Error(err)
	}
	after := con.String()[mark:]
	for _, want := range []string{"hardware: phone ringing", "hardware: ringer on GPIO23, cadence normal", "hardware: ringer off"} {
		if !strings.Contains(after, want) {
			t.Errorf("console lacks %q while SIPp called", want)
		}
	}

	// The GPIO parts kept running on the kernel's character device: no
	// scanner stopped, no ringer error.
	if m := regexp.MustCompile(`hardware: [^\n]*(stopped: |ringing with the board's cadence)[^\n]*`).FindString(con.String()); m != "" {
		t.Errorf("a hardware part failed while running: %s", m)
	}

	// The configuration is on the SD card's partition 2, as the firmware's
	// storage reads it back.
	vm.Stop()
	if !withSD {
		return
	}
	parts, _, err := disk.Read(sd)
	if err != nil {
		t.Fatal(err)
	}
	raw, err = os.ReadFile(sd)
	if err != nil {
		t.Fatal(err)
	}
	part := raw[parts[1].StartBytes : parts[1].StartBytes+parts[1].SizeBytes]
	st, err := storage.New(&memDevice{b: part}, int64(min(len(part), storage.DefaultSize)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Load()
	if err != nil {
		t.Fatalf("state partition: %v", err)
	}
	if !strings.Contains(string(c.Data), "line.1.user = 1001") || !strings.Contains(string(c.Data), fmt.Sprintf("sip.port = %d", sipPort)) {
		t.Errorf("stored configuration lacks the common or the phone's own file:\n%s", c.Data)
	}
	if dtbName != "bcm2837-rpi-3-b.dtb" {
		return // one slot switch is enough: each boot here is slow
	}

	// A firmware update on the Pi's layout: an image signed by the trusted
	// key on the TFTP server; the phone boots again on the same card,
	// installs it into slot A of the state partition, and its boot loader
	// switches to slot A. The image is the tiny program that crashes at
	// start (tools/lab/testdata/crashfw), so the loader switches back to
	// the factory image and the phone registers again: the switch both
	// ways on the Pi, in the time this board has. (phoned itself is 11 MB,
	// and QEMU's raspi3b moves about 90 KB/s over its USB network: two
	// minutes more; TestFirmwareUpdates runs phoned from a slot in QEMU's
	// virt machine.)
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	bin := filepath.Join(dir, "crashfw")
	if err := qemu.BuildArm64(ctx, "../..", "./tools/lab/testdata/crashfw", bin); err != nil {
		t.Fatal(err)
	}
	if _, err := provision.WriteFirmware(filepath.Join(tftp, "phoned.img"), priv, "1.1.0", bin); err != nil {
		t.Fatal(err)
	}
	own += fmt.Sprintf("firmware.url = phoned.img\nfirmware.tries = 1\nfirmware.public_key = %s\n", base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)))
	os.WriteFile(filepath.Join(tftp, lab.MACFile(mac)), []byte(own), 0o644)
	con2 := &qemu.Console{}
	start = time.Now()
	vm, err = power(con2)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		vm.Stop()
		if t.Failed() {
			t.Logf("console of the boot with the update:\n%s", con2)
		}
	}()
	for _, re := range []string{
		`deskphone test on board rpi3b`,
		`firmware: 1\.1\.0 written to slot A and read back`,
		`firmware: starting 1\.1\.0 from slot A, unconfirmed`,
		`crashfw: starting, and crashing`,
		`firmware: update to 1\.1\.0 failed, rolled back to test \(factory\)`,
		`(?s)rolled back to test \(factory\).*line 1 registered`,
	} {
		wctx, wcancel := context.WithTimeout(ctx, 90*time.Second)
		line, err := con2.WaitFor(wctx, regexp.MustCompile(re), vm.Done())
		wcancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("+%.1f s: %s", time.Since(start).Seconds(), line)
	}
}

// sippCall runs one call of a SIPp scenario against the phone's SIP port.
func sippCall(ctx context.Context, t *testing.T, port int, scenario string) error {
	t.Helper()
	path := testtool.Need(t, "sipp")
	sp, mp := testtool.Port(t), testtool.Ports(t, 4) // mp: sipp's media, RTP and RTCP, audio and video
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-sf", scenario, "-s", "1001", "-i", "127.0.0.1", "-p", fmt.Sprint(sp), "-mp", fmt.Sprint(mp),
		"-m", "1", "-nostdin", "-timeout", "45s", "-timeout_error", fmt.Sprintf("127.0.0.1:%d", port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("sipp %s: %w\n%s", filepath.Base(scenario), err, out)
	}
	return nil
}

// memDevice is a storage.Device over bytes.
type memDevice struct{ b []byte }

func (m *memDevice) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, fmt.Errorf("read at %d past %d", off, len(m.b))
	}
	return copy(p, m.b[off:]), nil
}

func (m *memDevice) WriteAt(p []byte, off int64) (int, error) {
	return 0, fmt.Errorf("read-only")
}

// A passive buzzer on GPIO 12 (a board variant with RingerPWM): on QEMU's
// Raspberry Pi 3B, with that board's device tree, the ringer drives the
// kernel's pwm-bcm2835 through sysfs with the cadence (pwmcheck).
func TestKernelPWMOnRaspi3b(t *testing.T) {
	testtool.Long(t, "make peers") // boots QEMU
	k := needKernel(t)
	b, _ := boards.ByName("rpi3b")
	b.Wiring.Ringer, b.Wiring.RingerPWM = 12, true
	src, err := b.DeviceTreeSource()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	base, err := os.ReadFile(filepath.Join(k.Dir, "dtbs", b.DeviceTrees[0]))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := DeviceTree(ctx, base, src)
	if err != nil {
		t.Fatal(err)
	}
	dtb := filepath.Join(dir, "pwm.dtb")
	os.WriteFile(dtb, tree, 0o644)
	mods, err := k.Files(b.Modules)
	if err != nil {
		t.Fatal(err)
	}
	initrd, err := qemu.BuildInitramfs(ctx, ".", "./internal/pwmcheck", dir, mods)
	if err != nil {
		t.Fatal(err)
	}
	kernel := filepath.Join(dir, KernelFile)
	img, err := Image(filepath.Join(k.Dir, "vmlinuz"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(kernel, img, 0o644)
	con := &qemu.Console{}
	vm, err := qemu.Start(ctx, kernel, initrd, qemu.Phone{Name: "pwm", Machine: "raspi3b", DTB: dtb, MAC: "52:54:00:12:34:b2", Console: con})
	if err != nil {
		t.Fatal(err)
	}
	werr := vm.Wait()
	out := con.String()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "PWMCHECK") {
			t.Log(strings.TrimSpace(l))
		}
	}
	if werr != nil || !strings.Contains(out, "PWMCHECK DONE failures=0") {
		t.Fatalf("QEMU: %v; the PWM check did not pass:\n%s", werr, out)
	}
}
