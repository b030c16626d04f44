package tokensfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/iqm-finland/authschema/api/tokens"
)

// Tokens-file errors; an *Error wraps one of them (or the cause from os).
var (
	// ErrMalformed: the file is not a tokens file (bad JSON, no access_token, too
	// large).
	ErrMalformed = errors.New("malformed tokens file")
	// ErrNotRegular: the path is a FIFO, a device, a folder or another thing that is
	// not a regular file; it is refused before it is read.
	ErrNotRegular = errors.New("not a regular file")
	// ErrLockTimeout: another process held the file's lock for longer than allowed.
	ErrLockTimeout = errors.New("timed out waiting for the tokens file's lock")
	// ErrUnsafeLock: the lock file is another user's, or others may open it, so
	// another local user could hold the lock and block every process of ours.
	ErrUnsafeLock = errors.New("lock file others can hold")
)

// maxTokensFileBytes bounds how much of a tokens file is read.
const maxTokensFileBytes = 1 << 20

// DefaultLockTimeout bounds the wait for a tokens file's lock when the context has no
// deadline: longer than one request to the auth server (60 s by default), which
// another process may be making while it holds the lock.
const DefaultLockTimeout = 90 * time.Second

// File is the tokens file the Cortex CLI writes (default
// ~/.cache/iqm-cortex-cli/tokens.json), plus the realm and client id. Its pid member
// (the process id of Cortex CLI's token manager, which Cortex's logout and init kill)
// is not read: like every member this package does not own, Write keeps it exactly as
// it was, and never writes one of its own.
type File struct {
	// Timestamp is when the file was written (zero: not given or not parsable); one
	// without a zone is local time, as the Cortex CLI writes it (Python's naive
	// datetime.now()).
	Timestamp time.Time
	// RefreshStatus is "SUCCESS" or "FAILED" (Cortex CLI's refresh daemon).
	RefreshStatus string
	// AuthServerURL, Realm and ClientID tell where the tokens come from.
	AuthServerURL, Realm, ClientID string
	// Tokens hold access_token (required) and refresh_token, with expiry times from
	// their JWT exp claims. No printed, logged or encoded form of a File shows them
	// (see tokens.Set).
	Tokens tokens.Set
}

// The members of the file that this package owns, in the order it writes them to a
// new file (Cortex CLI's order, then realm and client_id).
var ownedMembers = []string{"timestamp", "refresh_status", "access_token", "refresh_token", "auth_server_url", "realm", "client_id"}

// ownsFolded reports whether key is one of ownedMembers but for case: a member a
// reader that folds case (Go's encoding/json) would take for ours.
func ownsFolded(key string) bool {
	return slices.ContainsFunc(ownedMembers, func(m string) bool { return m != key && strings.EqualFold(m, key) })
}

// Error is a tokens file that cannot be read, parsed, locked or written. It names the
// path and the problem, never a token.
type Error struct {
	Path    string
	Problem string
	Err     error
}

func (e *Error) Error() string { return "tokens file " + e.Path + ": " + e.Problem }

// Unwrap returns the cause (fs.ErrNotExist, ErrMalformed, ...).
func (e *Error) Unwrap() error { return e.Err }

// Read reads a tokens file as Python's json module does: members by their exact
// names (a member that differs from ours only in case is someone else's), the last of
// an exact duplicate. access_token is a required string; refresh_token,
// auth_server_url, realm and client_id are strings or absent (null is absent), and
// another type is ErrMalformed naming the member; timestamp and refresh_status of
// another type are taken as absent; other members (pid among them) are not parsed.
// Anything that is not a regular file (a FIFO, a device, a
// folder) is refused before it is read, and at most 1 MiB is read.
func Read(path string) (File, error) {
	data, err := readRegular(path)
	if err != nil {
		return File{}, err
	}
	return Parse(path, data)
}

// readRegular reads a regular file, bounded, without blocking on anything else: it
// checks the type before opening, opens without blocking (a FIFO would wait for a
// writer) and checks again what it opened.
func readRegular(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{Path: path, Problem: "file not found", Err: fs.ErrNotExist}
		}
		return nil, &Error{Path: path, Problem: "cannot open: " + errorCause(err), Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	fh, err := openNoBlock(path)
	if err != nil {
		return nil, &Error{Path: path, Problem: "cannot open: " + errorCause(err), Err: err}
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil || !st.Mode().IsRegular() {
		if err != nil {
			return nil, &Error{Path: path, Problem: "cannot open: " + errorCause(err), Err: err}
		}
		return nil, notRegular(path, st.Mode())
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxTokensFileBytes+1))
	if err != nil {
		return nil, &Error{Path: path, Problem: "cannot read: " + errorCause(err), Err: err}
	}
	if len(data) > maxTokensFileBytes {
		return nil, &Error{Path: path, Problem: fmt.Sprintf("larger than %d bytes", maxTokensFileBytes), Err: ErrMalformed}
	}
	return data, nil
}

func notRegular(path string, mode fs.FileMode) error {
	return &Error{Path: path, Problem: "not a regular file (" + mode.Type().String() + "); refusing to read it", Err: ErrNotRegular}
}

// Parse parses the contents of a tokens file (see Read); path is only for errors.
func Parse(path string, data []byte) (File, error) {
	malformed := func(problem string) (File, error) {
		return File{}, &Error{Path: path, Problem: problem, Err: ErrMalformed}
	}
	var obj map[string]json.RawMessage // exact keys; the last of a duplicate wins
	if err := json.Unmarshal(data, &obj); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return malformed("not a JSON object")
		}
		return malformed("decoding JSON failed: " + jsonProblem(err))
	}
	if obj == nil {
		return malformed("not a JSON object")
	}
	var f File
	var access, refresh string
	for _, m := range []struct {
		name string
		to   *string
		need bool // of another type: malformed, not absent
	}{
		{"access_token", &access, true}, {"refresh_token", &refresh, true}, {"auth_server_url", &f.AuthServerURL, true},
		{"realm", &f.Realm, true}, {"client_id", &f.ClientID, true}, {"refresh_status", &f.RefreshStatus, false},
	} {
		raw, ok := obj[m.name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, m.to); err != nil && m.need {
			return malformed(m.name + " must be a string, not " + jsonType(raw))
		}
	}
	if access == "" {
		return malformed("access_token is missing")
	}
	// A token that a terminal or an Authorization header could be driven with (control
	// characters, a line break) is refused where every reader passes.
	if !tokens.ValidBearer(access) {
		return malformed("access_token has characters a bearer token may not have (RFC 6750)")
	}
	if refresh != "" && !tokens.ValidBearer(refresh) {
		return malformed("refresh_token has characters a bearer token may not have (RFC 6750)")
	}
	f.Tokens = tokens.New(access, refresh)
	var ts string
	if raw, ok := obj["timestamp"]; ok && json.Unmarshal(raw, &ts) == nil {
		// Without a zone (the Cortex CLI writes Python's naive datetime.now()), local time.
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.ParseInLocation(layout, ts, time.Local); err == nil {
				f.Timestamp = t
				break
			}
		}
	}
	return f, nil
}

// jsonType names the type of a JSON value, for an error.
func jsonType(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// jsonProblem describes a JSON error without quoting the input (a syntax error's
// message can carry a character of a token).
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s must be a %s, not a %s", typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	default:
		return "invalid JSON"
	}
}

// errorCause strips the path from an *fs.PathError, which the message names already.
func errorCause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// member is one member of a JSON object, its value as it was in the file.
type member struct {
	key string
	raw json.RawMessage
}

// members reads the top-level members of a JSON object in order, values byte for
// byte; ok is false when data is not a JSON object.
func members(data []byte) (ms []member, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		if err != nil || !isKey {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		ms = append(ms, member{key, raw})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	return ms, true
}

// Write writes f to path under the file's lock (Lock), atomically and with mode 0600:
// a temporary file in the same folder, written and synced, renamed over path, and the
// folder synced, so that a crash leaves either the old file or the new one. The
// members of the file being replaced that this package does not own (pid, and any
// other) are kept exactly as they were, but for those whose names differ from ours
// only in case (a reader that folds case would take them for ours) and second copies
// of ours, which are dropped. Timestamp defaults to now. Temporary files that a killed
// writer left behind are removed.
func Write(ctx context.Context, path string, f File) error {
	l, err := Lock(ctx, path, nil)
	if err != nil {
		return err
	}
	defer l.Unlock()
	return l.Write(f)
}

// encode is the content of the tokens file f that replaces old (the current file's
// content; nil when there is none): old's members that we do not own, byte for byte
// and in their order, ours in their place or else in ownedMembers' order.
func encode(path string, old []byte, f File) ([]byte, error) {
	access := f.Tokens.AccessToken()
	if access == "" {
		return nil, &Error{Path: path, Problem: "no access token to write", Err: ErrMalformed}
	}
	if refresh := f.Tokens.RefreshToken(); !tokens.ValidBearer(access) || (refresh != "" && !tokens.ValidBearer(refresh)) {
		return nil, &Error{Path: path, Problem: "a token to write has characters a bearer token may not have (RFC 6750)", Err: ErrMalformed}
	}
	ts := f.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	owned := map[string]any{"timestamp": ts.UTC().Format(time.RFC3339Nano), "access_token": access}
	for k, v := range map[string]string{"refresh_status": f.RefreshStatus, "refresh_token": f.Tokens.RefreshToken(),
		"auth_server_url": f.AuthServerURL, "realm": f.Realm, "client_id": f.ClientID} {
		if v != "" {
			owned[k] = v
		}
	}
	oldMembers, _ := members(old)
	var b bytes.Buffer
	b.WriteString("{")
	n := 0
	put := func(key string, raw []byte) {
		if n > 0 {
			b.WriteString(",")
		}
		n++
		k, _ := json.Marshal(key)
		b.WriteString("\n  ")
		b.Write(k)
		b.WriteString(": ")
		b.Write(raw)
	}
	done := map[string]bool{}
	for _, m := range oldMembers {
		if ownsFolded(m.key) {
			continue // it would shadow ours in a reader that folds case
		}
		if slices.Contains(ownedMembers, m.key) {
			if v, ok := owned[m.key]; ok && !done[m.key] {
				raw, _ := json.Marshal(v)
				put(m.key, raw)
				done[m.key] = true
			}
			continue
		}
		put(m.key, m.raw) // not ours: as it was
	}
	for _, k := range ownedMembers {
		if v, ok := owned[k]; ok && !done[k] {
			raw, _ := json.Marshal(v)
			put(k, raw)
		}
	}
	b.WriteString("\n}\n")
	return b.Bytes(), nil
}

const tempSuffix = ".tmp"

// reserveBytes is the room Prepare reserves beyond the current file's size.
const reserveBytes = 4 << 10

// tempPrefix is how the temporary files of path begin: ".tokens.json." for tokens.json.
func tempPrefix(path string) string { return "." + filepath.Base(path) + "." }

// temps lists the temporary files of path (regular files, not followed if symlinks).
func temps(path string) []fs.DirEntry {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil
	}
	prefix := tempPrefix(path)
	var ts []fs.DirEntry
	for _, e := range entries {
		name := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(name, prefix) && strings.HasSuffix(name, tempSuffix) &&
			len(name) > len(prefix)+len(tempSuffix) {
			ts = append(ts, e)
		}
	}
	return ts
}

// removeStaleTemps removes the temporary files of path (they hold full tokens) that a
// writer killed mid-write left behind, all but keep. Called with the lock held, so no
// other writer of this package is writing one, and after a read under the lock has
// recovered one that held newer tokens than path.
func removeStaleTemps(path, keep string) {
	for _, e := range temps(path) {
		if name := filepath.Join(filepath.Dir(path), e.Name()); name != keep {
			_ = os.Remove(name)
		}
	}
}

// recoverTemp puts back the tokens that a writer killed (or failing) between syncing
// its temporary file and renaming it left there, perhaps the only refresh token the
// server still takes: the newest temporary file of path that is a regular file owned
// by this user, a complete tokens file, and newer (by its timestamp) than path, or
// path is missing or not a tokens file, is renamed over path. Called with the lock
// held.
func recoverTemp(path string) {
	var mainTime time.Time
	switch f, err := Read(path); {
	case err == nil:
		mainTime = f.Timestamp
	case errors.Is(err, ErrNotRegular):
		return // not ours to replace
	}
	best, bestTime := "", mainTime
	for _, e := range temps(path) {
		st, err := e.Info()
		if uid, ok := fileOwner(st); err != nil || !st.Mode().IsRegular() || ok && uid != os.Geteuid() {
			continue
		}
		name := filepath.Join(filepath.Dir(path), e.Name())
		if f, err := Read(name); err == nil && f.Timestamp.After(bestTime) {
			best, bestTime = name, f.Timestamp
		}
	}
	if best != "" && os.Chmod(best, 0o600) == nil && os.Rename(best, path) == nil {
		syncDir(filepath.Dir(path))
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Remove removes the tokens file at path and any temporary file of it left behind,
// under the file's lock. A missing file is not an error.
func Remove(ctx context.Context, path string) error {
	l, err := Lock(ctx, path, nil)
	if err != nil {
		return err
	}
	defer l.Unlock()
	return l.Remove()
}

// Locked is a tokens file whose lock this process holds: reading, checking, renewing
// and writing it is one critical section across the processes that share it.
type Locked struct {
	path   string
	unlock func()
	tmp    *os.File // made by Prepare, until Commit or Unlock
}

// Lock takes the advisory lock of the tokens file at path, an flock on the sibling
// file path+".lock" (created with mode 0600, never removed), so that processes that
// read, renew and write the file do it one at a time. A lock file that another user
// owns, or that others may open (and so hold), is refused (ErrUnsafeLock). It waits
// until the lock is free, ctx ends, or DefaultLockTimeout passes when ctx has no
// deadline; waiting too long is ErrLockTimeout. onWait, if set, runs once when the
// lock is found taken. Call Unlock when done.
func Lock(ctx context.Context, path string, onWait func()) (*Locked, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultLockTimeout)
		defer cancel()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &Error{Path: path, Problem: "cannot create its folder: " + errorCause(err), Err: err}
	}
	unlock, err := lockFile(ctx, path, path+".lock", onWait)
	if err != nil {
		return nil, err
	}
	return &Locked{path: path, unlock: unlock}, nil
}

// Path is the tokens file.
func (l *Locked) Path() string { return l.path }

// Read reads the file (see Read), after recovering the tokens that a writer killed
// between syncing its temporary file and renaming it left behind: the newest
// temporary file of the file that is a regular file owned by this user, a complete
// tokens file and newer by its timestamp (or the file is missing) replaces the file.
func (l *Locked) Read() (File, error) {
	recoverTemp(l.path)
	return Read(l.path)
}

// Prepare makes sure, before anything is sent whose answer must be written (a
// rotated refresh token is the only one the server takes), that the file can be
// written: it creates the temporary file beside it (mode 0600) that Commit fills and
// renames over it, and reserves room in it (the current file's size and 4 KiB more:
// a full disk or quota fails here), and then removes the temporary files a killed writer left (Read
// recovers a complete, newer one first). Unlock removes the temporary file when
// Commit was not called. Preparing again does nothing.
func (l *Locked) Prepare() error {
	if l.tmp != nil {
		return nil
	}
	dir := filepath.Dir(l.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &Error{Path: l.path, Problem: "cannot create its folder: " + errorCause(err), Err: err}
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(l.path)+"*"+tempSuffix)
	if err != nil {
		return &Error{Path: l.path, Problem: "cannot create a temporary file in its folder " + dir + ": " + errorCause(err) +
			"; the folder must be writable to save renewed tokens", Err: err}
	}
	fail := func(problem string, err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return &Error{Path: l.path, Problem: problem, Err: err}
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail("cannot set mode 0600: "+errorCause(err), err)
	}
	// Room for the new content: the current file's size and then some (tokens of one
	// server keep their size), so that a full disk or quota fails here, not after.
	room := int64(reserveBytes)
	if st, err := os.Stat(l.path); err == nil && st.Mode().IsRegular() {
		room += st.Size()
	}
	if _, err := tmp.Write(make([]byte, room)); err != nil {
		return fail("cannot write a temporary file in its folder "+dir+": "+errorCause(err)+
			"; there must be room to save renewed tokens", err)
	}
	l.tmp = tmp
	removeStaleTemps(l.path, tmp.Name())
	return nil
}

// Commit writes f (see Write) into the temporary file that Prepare made (preparing it
// now if it did not), syncs it, renames it over the file and syncs the folder. When
// the rename fails after the new content is synced, the temporary file is left for
// the next Read under the lock to recover.
func (l *Locked) Commit(f File) error {
	old, _ := readRegular(l.path)
	data, err := encode(l.path, old, f)
	if err != nil {
		return err
	}
	if err := l.Prepare(); err != nil {
		return err
	}
	tmp := l.tmp
	l.tmp = nil
	synced := false
	fail := func(problem string, err error) error {
		tmp.Close()
		if !synced {
			os.Remove(tmp.Name())
		} else {
			problem += "; the new tokens are kept in " + tmp.Name() + " for the next run to recover"
		}
		return &Error{Path: l.path, Problem: problem, Err: err}
	}
	if _, err := tmp.WriteAt(data, 0); err != nil {
		return fail("cannot write: "+errorCause(err), err)
	}
	if err := tmp.Truncate(int64(len(data))); err != nil {
		return fail("cannot write: "+errorCause(err), err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("cannot sync: "+errorCause(err), err)
	}
	synced = true
	if err := tmp.Close(); err != nil {
		return fail("cannot close: "+errorCause(err), err)
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		return fail("cannot replace: "+errorCause(err), err)
	}
	syncDir(filepath.Dir(l.path))
	return nil
}

// Write writes f (see Write): Prepare and Commit.
func (l *Locked) Write(f File) error { return l.Commit(f) }

// Remove removes the file and any temporary file of it left behind; a missing file is
// not an error.
func (l *Locked) Remove() error {
	removeStaleTemps(l.path, "")
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &Error{Path: l.path, Problem: "cannot remove: " + errorCause(err), Err: err}
	}
	return nil
}

// Unlock removes a temporary file that Prepare made and Commit did not use, and
// releases the lock; calling it again does nothing.
func (l *Locked) Unlock() {
	if l.tmp != nil {
		l.tmp.Close()
		os.Remove(l.tmp.Name())
		l.tmp = nil
	}
	if l.unlock != nil {
		l.unlock()
		l.unlock = nil
	}
}

// DefaultPath is where the Cortex CLI keeps its tokens:
// ~/.cache/iqm-cortex-cli/tokens.json (the user cache folder elsewhere).
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache folder for the tokens file: %w", err)
	}
	return filepath.Join(dir, "iqm-cortex-cli", "tokens.json"), nil
}

// PermissionProblems describes, for a warning, what makes the tokens file at
// path readable or writable by others: its own mode (anything beyond 0600) and its
// folder's (writable by group or others). It reports nothing it cannot check.
func PermissionProblems(path string) []string {
	var problems []string
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		problems = append(problems, fmt.Sprintf("tokens file %s is readable or writable by others (mode %04o); run: chmod 600 %s",
			path, st.Mode().Perm(), path))
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o022 != 0 {
		problems = append(problems, fmt.Sprintf("folder %s of the tokens file is writable by others (mode %04o), who could replace the file; run: chmod go-w %s",
			dir, st.Mode().Perm(), dir))
	}
	return problems
}
