package provision

import (
	"bytes"
	"crypto/ed25519"
	"debug/elf"
	"fmt"
	"os"

	"github.com/deskphone/deskphone/firmware/update"
)

// elfArch maps an ELF machine to the GOARCH an image names.
var elfArch = map[elf.Machine]string{elf.EM_AARCH64: "arm64", elf.EM_X86_64: "amd64", elf.EM_ARM: "arm", elf.EM_RISCV: "riscv64"}

// FirmwareImage makes the signed firmware image (firmware/update's format:
// a 512-byte signed header, then the binary) of a phoned binary: an ELF
// executable, whose architecture the header names.
func FirmwareImage(key ed25519.PrivateKey, version string, binary []byte) ([]byte, error) {
	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		return nil, fmt.Errorf("provision: firmware: not an ELF executable: %w", err)
	}
	arch, ok := elfArch[f.Machine]
	if !ok || f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, fmt.Errorf("provision: firmware: an ELF %s %s, want an arm64 executable", f.Type, f.Machine)
	}
	h, err := update.Build(key, version, arch, binary)
	if err != nil {
		return nil, fmt.Errorf("provision: firmware: %w", err)
	}
	return append(h, binary...), nil
}

// WriteFirmware writes the image of the binary at binPath to out.
func WriteFirmware(out string, key ed25519.PrivateKey, version, binPath string) (update.Header, error) {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return update.Header{}, fmt.Errorf("provision: firmware: %w", err)
	}
	img, err := FirmwareImage(key, version, bin)
	if err != nil {
		return update.Header{}, err
	}
	h, err := update.Verify(key.Public().(ed25519.PublicKey), img)
	if err != nil {
		return update.Header{}, err
	}
	if err := os.WriteFile(out, img, 0o644); err != nil {
		return update.Header{}, fmt.Errorf("provision: firmware: %w", err)
	}
	return h, nil
}
