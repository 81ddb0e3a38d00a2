package keys

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WritePrivateKey writes k as PKCS#8 PEM to a new file with mode 0600, never overwriting.
func WritePrivateKey(path string, k *rsa.PrivateKey) error {
	data, err := PrivatePEM(k)
	if err != nil {
		return err
	}
	defer clear(data)
	return WriteFileExclusive(path, data, 0o600)
}

// WriteFileExclusive writes data to a new file at path with mode perm; it returns ErrExists if path exists.
// A missing parent folder is created with mode 0700; on failure no partial file is left behind.
func WriteFileExclusive(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("keys: create folder %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("keys: %s already exists; refusing to overwrite it (choose another path or move the old file away): %w", path, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("keys: create %s: %w", path, err)
	}
	// Chmod sets the exact mode regardless of the umask.
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("keys: write %s (partial file removed): %w", path, err)
	}
	return nil
}

// LoadPrivateKey reads and parses the RSA private key file at path.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: read private key: %w", err)
	}
	defer clear(data)
	k, err := parsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	return k, nil
}
