package tokensfile_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
)

// tokensJSON is a complete tokens file written at ts.
func tokensJSON(access string, ts time.Time) string {
	return fmt.Sprintf(`{"timestamp": %q, "access_token": %q, "refresh_token": "r-%s", "auth_server_url": "https://a.example"}`,
		ts.UTC().Format(time.RFC3339Nano), access, access)
}

// lockedRead reads path under its lock, as a renewal does.
func lockedRead(t *testing.T, path string) (tokensfile.File, error) {
	t.Helper()
	var f tokensfile.File
	var readErr error
	if err := tokensfile.Update(context.Background(), path, nil, func(tx *tokensfile.Tx) error {
		f, readErr = tx.File()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return f, readErr
}

// TestLockedReadRecoversNewerTempFile: a writer killed between syncing its temporary
// file and renaming it may leave there the only refresh token the server still takes.
// The next read under the lock puts a complete, newer temporary file of ours in place
// of the file; an incomplete or older one, another file's, a symlink, or another
// user's is not taken, and the next write removes it.
func TestLockedReadRecoversNewerTempFile(t *testing.T) {
	t1 := t0.Add(time.Minute)
	for _, tt := range []struct {
		name    string
		main    string // "": no file
		temp    string
		link    bool // the temporary file is a symlink to a file with temp
		foreign bool // owned by another user
		want    string
	}{
		{name: "newer", main: tokensJSON("old", t0), temp: tokensJSON("new", t1), want: "new"},
		{name: "no file", temp: tokensJSON("new", t1), want: "new"},
		{name: "file not a tokens file", main: `{"access_token":`, temp: tokensJSON("new", t1), want: "new"},
		{name: "older", main: tokensJSON("old", t1), temp: tokensJSON("new", t0), want: "old"},
		{name: "same time", main: tokensJSON("old", t1), temp: tokensJSON("new", t1), want: "old"},
		{name: "incomplete", main: tokensJSON("old", t0), temp: tokensJSON("new", t1)[:40], want: "old"},
		{name: "no timestamp", main: tokensJSON("old", t0), temp: `{"access_token": "new"}`, want: "old"},
		{name: "symlink", main: tokensJSON("old", t0), temp: tokensJSON("new", t1), link: true, want: "old"},
		{name: "another user's", main: tokensJSON("old", t0), temp: tokensJSON("new", t1), foreign: true, want: "old"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.foreign && os.Geteuid() != 0 {
				t.Skip("making a file another user owns needs root")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "tokens.json")
			if tt.main != "" {
				if err := os.WriteFile(path, []byte(tt.main), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			temp := filepath.Join(dir, ".tokens.json.123456.tmp")
			if tt.link {
				target := filepath.Join(dir, "elsewhere.json")
				if err := os.WriteFile(target, []byte(tt.temp), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, temp); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(temp, []byte(tt.temp), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.foreign {
				if err := os.Chown(temp, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			// A file of another tokens file is never taken.
			if err := os.WriteFile(filepath.Join(dir, ".other.json.9.tmp"), []byte(tokensJSON("other", t1.Add(time.Hour))), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := lockedRead(t, path)
			if tt.want == "old" && tt.main == `{"access_token":` {
				if !errors.Is(err, tokensfile.ErrMalformed) {
					t.Fatalf("got %v", err)
				}
			} else if err != nil || f.Tokens.AccessToken() != tt.want || f.Tokens.RefreshToken() != "r-"+tt.want {
				t.Fatalf("read %v, %v; want the tokens %q", f, err, tt.want)
			}
			if st, err := os.Stat(path); tt.want == "new" && (err != nil || st.Mode().Perm() != 0o600) {
				t.Errorf("recovered file: mode %v, %v", st.Mode(), err)
			}
			// The next write leaves no temporary file of the tokens file (a symlink is
			// not one, and is not followed).
			if err := tokensfile.Write(context.Background(), path, tokensfile.File{Tokens: tokens.New("w", "")}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(temp); !tt.link && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("temporary file left: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, ".other.json.9.tmp")); err != nil {
				t.Errorf("another file's temporary file removed: %v", err)
			}
		})
	}
}

// TestPrepareThenWrite: Prepare makes the temporary file (mode 0600), with room for
// the current file's size and 4 KiB more, before anything is sent; when fn then fails,
// Update removes it, drops fn's Write and leaves the file as it was; when fn returns
// nil, Update fills it and puts it in place.
func TestPrepareThenWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	if err := os.WriteFile(path, []byte(tokensJSON("old", t0)), 0o600); err != nil {
		t.Fatal(err)
	}
	tempsOf := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, ".tokens.json.*.tmp"))
		return m
	}
	// fn fails after Prepare and a Write: nothing changes, no temporary file is left.
	errStop := errors.New("stop")
	err := tokensfile.Update(context.Background(), path, nil, func(tx *tokensfile.Tx) error {
		if err := tx.Prepare(); err != nil {
			return err
		}
		if m := tempsOf(); len(m) != 1 {
			t.Fatalf("temporary files %v", m)
		} else if st, err := os.Stat(m[0]); err != nil || st.Mode().Perm() != 0o600 || st.Size() < int64(len(tokensJSON("old", t0))+4096) {
			t.Fatalf("temporary file: %v, %d bytes reserved, %v", st.Mode(), st.Size(), err)
		}
		tx.Write(tokensfile.File{Tokens: tokens.New("CANARY-new", "")})
		return errStop
	})
	if err != errStop {
		t.Errorf("Update returned %v, want fn's error", err)
	}
	if m := tempsOf(); len(m) != 0 {
		t.Errorf("a failed update left %v", m)
	}
	if f, err := tokensfile.Read(path); err != nil || f.Tokens.AccessToken() != "old" {
		t.Errorf("file changed: %v %v", f, err)
	}
	err = tokensfile.Update(context.Background(), path, nil, func(tx *tokensfile.Tx) error {
		if err := tx.Prepare(); err != nil {
			return err
		}
		tx.Write(tokensfile.File{Tokens: tokens.New("new", "")})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if f, err := tokensfile.Read(path); err != nil || f.Tokens.AccessToken() != "new" || len(tempsOf()) != 0 {
		t.Errorf("after the write: %v %v %v", f, err, tempsOf())
	}
}

// TestWriteFailureKeepsSyncedTokens: when the rename fails after the new tokens are
// written and synced (here the tokens file's name is taken by a folder, which root
// cannot rename a file over either; it stands for any failure between sync and
// rename), the temporary file is kept, the error says where, and the next read under
// the lock recovers the tokens.
func TestWriteFailureKeepsSyncedTokens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	err := tokensfile.Update(context.Background(), path, nil, func(tx *tokensfile.Tx) error {
		if err := tx.Prepare(); err != nil {
			return err
		}
		tx.Write(tokensfile.File{Tokens: tokens.New("CANARY-new", "CANARY-r")})
		return nil
	})
	kept, _ := filepath.Glob(filepath.Join(dir, ".tokens.json.*.tmp"))
	if err == nil || len(kept) != 1 || !strings.Contains(err.Error(), "kept in "+kept[0]) || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("commit: %v, kept %v", err, kept)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	f, err := lockedRead(t, path)
	if err != nil || f.Tokens.RefreshToken() != "CANARY-r" {
		t.Errorf("not recovered: %v %v", f, err)
	}
}

// TestRecoveryReadsCortexTimestampsAsLocalTime: the Cortex CLI writes its timestamp
// without a zone (Python's naive datetime.now(), local time). East of UTC, read as
// UTC it would look hours newer than the temporary file of a refresh made after it,
// and the tokens in that file would be deleted instead of recovered.
func TestRecoveryReadsCortexTimestampsAsLocalTime(t *testing.T) {
	saved := time.Local
	time.Local = time.FixedZone("EET", 2*60*60)
	defer func() { time.Local = saved }()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	cortex := `{"pid": 4242, "timestamp": "` + t0.In(time.Local).Format("2006-01-02T15:04:05.000000") +
		`", "refresh_status": "SUCCESS", "access_token": "old", "refresh_token": "r-old", "auth_server_url": "https://a.example"}`
	if err := os.WriteFile(path, []byte(cortex), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".tokens.json.77.tmp"), []byte(tokensJSON("new", t0.Add(time.Minute))), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := lockedRead(t, path)
	if err != nil || f.Tokens.AccessToken() != "new" || !f.Timestamp.Equal(t0.Add(time.Minute)) {
		t.Errorf("read %v, %v; want the temporary file's tokens", f, err)
	}
	if f, err := tokensfile.Parse("x", []byte(cortex)); err != nil || !f.Timestamp.Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("Cortex timestamp read as %v, want %v (%v)", f.Timestamp, t0, err)
	}
}
