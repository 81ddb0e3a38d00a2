package steps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkKeyDir judges the folder new private keys go to, as the file system will see it: the
// path is resolved first (symlinks followed, in the part that exists yet), then refused when
// it lies inside the Terraform folder tfDir by any path (a symlink, a bind mount, the folder
// given through a symlink), or when group or others may write to it. The resolved path is
// returned, so that keys are written where they were judged to go.
func checkKeyDir(keyDir, tfDir string) (string, error) {
	abs, err := filepath.Abs(keyDir)
	if err != nil {
		return "", err
	}
	resolved, err := resolveExisting(abs)
	if err != nil {
		return "", err
	}
	in, err := within(resolved, tfDir)
	if err != nil {
		return "", err
	}
	if in {
		return "", optionsErrorf("key folder %s is inside the Terraform folder %s%s: private keys must never be written there; choose another --key-dir",
			keyDir, tfDir, viaLinks(abs, resolved))
	}
	if err := checkPrivateFolder(resolved); err != nil {
		return "", err
	}
	return resolved, checkParents(resolved)
}

// resolveExisting follows the symlinks of the longest part of path that exists and appends
// the rest, which does not exist yet (a key folder rekey will create). A symlink that points
// nowhere is refused: a folder made through it would land wherever it points.
func resolveExisting(path string) (string, error) {
	rest := ""
	for p := path; ; p = filepath.Dir(p) {
		resolved, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(resolved, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if _, lerr := os.Lstat(p); lerr == nil {
			target, _ := os.Readlink(p)
			return "", optionsErrorf("%s is a symlink to %s, which does not exist: rekey does not create folders through a dangling link; create the target or choose another --key-dir", p, target)
		}
		if filepath.Dir(p) == p {
			return path, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// within reports whether path, or a folder that holds it, is the folder dir itself (compared
// as files, so a symlink or bind mount to dir counts).
func within(path, dir string) (bool, error) {
	target, err := os.Stat(dir)
	if err != nil {
		return false, err
	}
	for p := path; ; p = filepath.Dir(p) {
		if info, err := os.Stat(p); err == nil && os.SameFile(info, target) {
			return true, nil
		}
		if filepath.Dir(p) == p {
			return false, nil
		}
	}
}

// viaLinks explains a path whose resolution differs from what was given.
func viaLinks(given, resolved string) string {
	if given == resolved {
		return ""
	}
	return fmt.Sprintf(" (through symlinks it is %s)", resolved)
}

// checkParents refuses a key folder held, at any level, by a folder that others may write to
// without the sticky bit (as /tmp has): they could rename the key folder away and put their own
// in its place, as ssh's StrictModes reasons. A folder writable by its group counts too, unless
// the group is the operator's own primary group (the user-private groups of umask 002).
func checkParents(dir string) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist): // rekey creates it 0700
		case err != nil:
			return err
		case info.Mode()&fs.ModeSticky == 0 && (info.Mode().Perm()&0o002 != 0 || info.Mode().Perm()&0o020 != 0 && !ownGroup(info)):
			return optionsErrorf("folder %s, which holds the key folder %s, can be written by its group or by others (mode %04o) without the sticky bit: they could put their own folder in its place; run chmod go-w %s, or choose another --key-dir",
				p, dir, info.Mode().Perm(), p)
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

// ownGroup reports whether info's group is the operator's primary group.
func ownGroup(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Gid) == os.Getgid()
}

// checkPrivateFolder refuses an existing key folder that group or others may write to: they
// could delete or replace the private keys in it. A folder rekey creates is made 0700.
func checkPrivateFolder(dir string) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if !info.IsDir() {
		return optionsErrorf("key folder %s is not a folder; choose another --key-dir", dir)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return optionsErrorf("key folder %s can be written by its group or by others (mode %04o): they could delete or replace the private keys in it; run chmod 700 %s, or choose another --key-dir",
			dir, perm, dir)
	}
	return nil
}
