package tokensfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/internal/opencount"
)

// TestUpdateReadsOnce: an Update that reads the file, prepares, and writes it back
// (a renewal) opens the file once, also when it recovers a newer temporary file; one
// that only writes (a login) opens it once, for the members it keeps; Remove and an
// Update that asks for nothing do not open it; Read opens it once.
func TestUpdateReadsOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	if err := os.WriteFile(path, []byte(`{"pid": 7, `+tokensJSON("old", t0)[1:]), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := opencount.Watch(path)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("counting opens needs inotify")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	renew := func(tx *tokensfile.Tx) error {
		f, err := tx.File()
		if err != nil {
			return err
		}
		if err := tx.Prepare(); err != nil {
			return err
		}
		f.Tokens = tokens.New("renewed-"+f.Tokens.AccessToken(), "r")
		f.Timestamp = t0.Add(2 * 60e9)
		tx.Write(f)
		return nil
	}
	login := func(tx *tokensfile.Tx) error {
		if err := tx.Prepare(); err != nil {
			return err
		}
		tx.Write(tokensfile.File{Tokens: tokens.New("login", "r")})
		return nil
	}
	nothing := func(*tokensfile.Tx) error { return nil }
	for _, tt := range []struct {
		name  string
		setup func()
		run   func() error
		opens int
	}{
		{"renewal", nil, func() error { return tokensfile.Update(context.Background(), path, nil, renew) }, 1},
		{"renewal recovering a newer temporary file", func() {
			if err := os.WriteFile(filepath.Join(dir, ".tokens.json.9.tmp"), []byte(tokensJSON("tmp", t0.Add(3*60e9))), 0o600); err != nil {
				t.Fatal(err)
			}
		}, func() error { return tokensfile.Update(context.Background(), path, nil, renew) }, 1},
		{"login", nil, func() error { return tokensfile.Update(context.Background(), path, nil, login) }, 1},
		{"Write", nil, func() error {
			return tokensfile.Write(context.Background(), path, tokensfile.File{Tokens: tokens.New("w", "")})
		}, 1},
		{"nothing asked", nil, func() error { return tokensfile.Update(context.Background(), path, nil, nothing) }, 0},
		{"Read", nil, func() error { _, err := tokensfile.Read(path); return err }, 1},
		{"Remove", nil, func() error { return tokensfile.Remove(context.Background(), path) }, 0},
	} {
		if tt.setup != nil {
			tt.setup()
		}
		if err := c.Reset(); err != nil {
			t.Fatal(err)
		}
		if err := tt.run(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if n, err := c.Opens(); err != nil || n != tt.opens {
			t.Errorf("%s: opened the file %d times, want %d (%v)", tt.name, n, tt.opens, err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("after Remove: %v", err)
	}
}

// TestUpdateStartsFromRecoveredTokens: a renewal keeps the members it does not
// own (pid) and starts from a recovered temporary file's tokens.
func TestUpdateStartsFromRecoveredTokens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	if err := os.WriteFile(path, []byte(`{"pid": 7, `+tokensJSON("old", t0)[1:]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".tokens.json.9.tmp"), []byte(`{"pid": 8, `+tokensJSON("tmp", t0.Add(60e9))[1:]), 0o600); err != nil {
		t.Fatal(err)
	}
	err := tokensfile.Update(context.Background(), path, nil, func(tx *tokensfile.Tx) error {
		f, err := tx.File()
		if err != nil || f.Tokens.AccessToken() != "tmp" {
			t.Errorf("read %v %v, want the temporary file's tokens", f, err)
		}
		f.Tokens = tokens.New("next", "")
		tx.Write(f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !containsAll(string(data), `"pid": 8`, `"access_token": "next"`) {
		t.Errorf("file %s %v", data, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".tokens.json.*.tmp")); len(m) != 0 {
		t.Errorf("left %v", m)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
