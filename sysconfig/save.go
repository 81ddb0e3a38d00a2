package sysconfig

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aymanbagabas/go-udiff"
)

// Save writes the pending changes atomically, keeping the file's mode, and reads them back; ErrChanged if the file changed since Load.
func (f *File) Save() error {
	if slices.Equal(f.entries, f.loaded) {
		return nil
	}
	// A symbolic link is followed: its target is replaced and the link stays.
	out, err := f.doc.render(f.entries)
	if err != nil {
		return fmt.Errorf("sysconfig: %s: %w", f.path, err)
	}
	target, err := filepath.EvalSymlinks(f.path)
	if err != nil {
		return fmt.Errorf("sysconfig: %w", err)
	}
	info, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("sysconfig: %w", err)
	}
	disk, err := os.ReadFile(target)
	if err != nil {
		return fmt.Errorf("sysconfig: %w", err)
	}
	if !bytes.Equal(disk, f.data) {
		return fmt.Errorf("sysconfig: %s: %w; load it again and repeat the change", f.path, ErrChanged)
	}
	if err := writeAtomic(target, out, info.Mode().Perm()); err != nil {
		return fmt.Errorf("sysconfig: write %s (the original is unchanged): %w", f.path, err)
	}
	return f.verify()
}

// verify reads the file back and, if it lists the expected entries, makes f that file.
func (f *File) verify() error {
	back, err := Load(f.path)
	if err != nil {
		return fmt.Errorf("sysconfig: wrote %s but cannot read it back; fix it by hand: %w", f.path, err)
	}
	if !slices.Equal(back.entries, f.entries) {
		return fmt.Errorf("sysconfig: wrote %s but it reads back as [%s], not [%s]; fix it by hand",
			f.path, strings.Join(kids(back.entries), ", "), strings.Join(kids(f.entries), ", "))
	}
	*f = *back
	return nil
}

// writeAtomic replaces path with data: a temporary file in the same folder is written with
// mode perm, synced and renamed over path, so readers see the old or the new file, never a mix.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	err = tmp.Chmod(perm)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: the new file is already in place,
// so a failure here must not be reported as a failed save.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// Diff returns a unified diff of the pending changes, or "" when there are none.
func (f *File) Diff() string {
	if slices.Equal(f.entries, f.loaded) {
		return ""
	}
	out, err := f.doc.render(f.entries)
	if err != nil {
		return fmt.Sprintf("sysconfig: cannot show the change to %s: %v\n", f.path, err)
	}
	name := filepath.Base(f.path)
	return udiff.Unified("a/"+name, "b/"+name, string(f.data), string(out))
}
