package qemu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	// The kernel is a module in go.mod; this import keeps it there.
	_ "github.com/gokrazy/kernel.arm64"
)

const kernelModule = "github.com/gokrazy/kernel.arm64"

// KernelPath returns the path of the vmlinuz of the pinned
// github.com/gokrazy/kernel.arm64 module, downloading the module first
// when it is not in the module cache. It runs the go command in the
// current directory, which must be inside the repository.
func KernelPath(ctx context.Context) (string, error) {
	dir, err := ModuleDir(ctx, kernelModule)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "vmlinuz")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("qemu: kernel: %w", err)
	}
	return p, nil
}

// ModuleDir returns the folder of a module go.mod requires (a kernel, the
// Raspberry Pi boot firmware), downloading it first when it is not in the
// module cache. It runs the go command in the current directory, which
// must be inside the repository.
func ModuleDir(ctx context.Context, module string) (string, error) {
	dir, err := goOut(ctx, "list", "-m", "-f", "{{.Dir}}", module)
	if err != nil || dir == "" {
		if _, err := goOut(ctx, "mod", "download", module); err != nil {
			return "", fmt.Errorf("qemu: downloading %s: %w", module, err)
		}
		if dir, err = goOut(ctx, "list", "-m", "-f", "{{.Dir}}", module); err != nil {
			return "", fmt.Errorf("qemu: locating %s: %w", module, err)
		}
	}
	return dir, nil
}

func goOut(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, goBin(), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func goBin() string {
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// BuildArm64 builds pkg (a path relative to repoRoot, such as
// "./firmware/cmd/phoned") as a static linux/arm64 binary at out.
func BuildArm64(ctx context.Context, repoRoot, pkg, out string) error {
	return BuildArm64WithVersion(ctx, repoRoot, pkg, out, "")
}

// BuildArm64WithVersion is BuildArm64 with main.version set to version
// (phoned reports it); "" leaves the program's default.
//
// The binary goes without its symbol table and DWARF (-s -w): a phone
// keeps its /init in the initramfs, in memory for as long as it runs, and
// a firmware update downloads it, so the 5 MB of debugging data (a third
// of the binary) would cost every phone that much RAM and every update
// that much transfer. Go's own tables stay (.gopclntab), so a panic's
// traceback still names its functions and lines.
func BuildArm64WithVersion(ctx context.Context, repoRoot, pkg, out, version string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("qemu: build: %w", err)
	}
	ldflags := "-s -w"
	if version != "" {
		ldflags += " -X main.version=" + version
	}
	args := []string{"build", "-trimpath", "-ldflags", ldflags, "-o", abs}
	cmd := exec.CommandContext(ctx, goBin(), append(args, pkg)...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("qemu: building %s: %w: %s", pkg, err, strings.TrimSpace(string(b)))
	}
	return nil
}
