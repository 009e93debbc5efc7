package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySize is the size in bytes of the master key.
const KeySize = 32

// LoadOrCreateKey returns the 32-byte master key held in path. When the file
// does not exist it is created with 32 random bytes, mode 0600 (and its
// directory with 0700), atomically: a concurrent start never sees a partial
// key. A file of another size, or one that others than its owner may read,
// is refused.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("config: create key directory: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("config: generate key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("config: create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("config: create key file: %w", err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("config: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("config: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("config: write key file: %w", err)
	}
	// Link fails when another process created the key meanwhile: use theirs.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKey(path)
		}
		return nil, fmt.Errorf("config: create key file: %w", err)
	}
	return key, nil
}

// LoadKey returns the 32-byte master key held in path, like LoadOrCreateKey,
// but never creates it: a missing file is an error wrapping fs.ErrNotExist.
func LoadKey(path string) ([]byte, error) {
	key, err := readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("config: no key file at %s: %w", path, err)
	}
	return key, err
}

func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("config: read key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("config: read key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("config: key file %s has mode %04o: others may read it; run chmod 600 on it", path, st.Mode().Perm())
	}
	key := make([]byte, KeySize+1)
	n, _ := f.Read(key)
	if n != KeySize {
		return nil, fmt.Errorf("config: key file %s holds %d bytes, not %d (restore it from a backup; a new key invalidates emailed links and encrypted credentials)", path, n, KeySize)
	}
	return key[:KeySize], nil
}
