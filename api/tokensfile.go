package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/iqm-finland/authschema/internal/redact"
)

// Tokens-file errors; a *TokensFileError wraps one of them (or the cause from os).
var (
	// ErrMalformedTokensFile: the file is not a tokens file (bad JSON, no access_token,
	// too large).
	ErrMalformedTokensFile = errors.New("malformed tokens file")
	// ErrNotRegularFile: the path is a FIFO, a device, a folder or another thing that is
	// not a regular file; it is refused before it is read.
	ErrNotRegularFile = errors.New("not a regular file")
	// ErrLockTimeout: another process held the file's lock for longer than allowed.
	ErrLockTimeout = errors.New("timed out waiting for the tokens file's lock")
)

// maxTokensFileBytes bounds how much of a tokens file is read.
const maxTokensFileBytes = 1 << 20

// DefaultLockTimeout bounds the wait for a tokens file's lock when the context has no
// deadline: longer than one request (DefaultTimeout), which another process may be
// making while it holds the lock.
const DefaultLockTimeout = DefaultTimeout + 30*time.Second

// TokensFile is the tokens file the Cortex CLI writes (default
// ~/.cache/iqm-cortex-cli/tokens.json), plus the realm and client id.
type TokensFile struct {
	// PID is the pid member of the file: the process id of Cortex CLI's token manager,
	// which Cortex's logout and init kill. It is only read: WriteTokensFile never
	// writes a pid of its own, and keeps the one in the file it replaces, like every
	// member this package does not own, exactly as it was.
	PID int
	// Timestamp is when the file was written (zero: not given or not parsable).
	Timestamp time.Time
	// RefreshStatus is "SUCCESS" or "FAILED" (Cortex CLI's refresh daemon).
	RefreshStatus string
	// AuthServerURL, Realm and ClientID tell where the tokens come from.
	AuthServerURL, Realm, ClientID string
	// Tokens hold access_token (required) and refresh_token, with expiry times from
	// their JWT exp claims.
	Tokens Tokens
}

// String shows the file's settings, never its tokens.
func (f TokensFile) String() string {
	return fmt.Sprintf("TokensFile{auth_server_url:%q realm:%q client_id:%q refresh_status:%q pid:%d tokens:%v}",
		f.AuthServerURL, f.Realm, f.ClientID, f.RefreshStatus, f.PID, f.Tokens)
}

// GoString is String under %#v.
func (f TokensFile) GoString() string { return "api." + f.String() }

// Format keeps the tokens out of every fmt verb.
func (f TokensFile) Format(s fmt.State, verb rune) { redact.Format(s, verb, f.String(), f.GoString()) }

// LogValue keeps the tokens out of log/slog output.
func (f TokensFile) LogValue() slog.Value {
	return slog.GroupValue(slog.String("auth_server_url", f.AuthServerURL), slog.String("realm", f.Realm),
		slog.String("client_id", f.ClientID), slog.String("refresh_status", f.RefreshStatus),
		slog.Any("tokens", f.Tokens.LogValue()))
}

// The members of the file that this package owns, in the order it writes them to a
// new file (Cortex CLI's order, then realm and client_id).
var ownedMembers = []string{"timestamp", "refresh_status", "access_token", "refresh_token", "auth_server_url", "realm", "client_id"}

// tokensFileJSON is the wire form of the members read.
type tokensFileJSON struct {
	PID           *int    `json:"pid"`
	Timestamp     string  `json:"timestamp"`
	RefreshStatus string  `json:"refresh_status"`
	AccessToken   *string `json:"access_token"`
	RefreshToken  *string `json:"refresh_token"`
	AuthServerURL string  `json:"auth_server_url"`
	Realm         string  `json:"realm"`
	ClientID      string  `json:"client_id"`
}

// TokensFileError is a tokens file that cannot be read, parsed, locked or written. It
// names the path and the problem, never a token.
type TokensFileError struct {
	Path    string
	Problem string
	Err     error
}

func (e *TokensFileError) Error() string { return "tokens file " + e.Path + ": " + e.Problem }

// Unwrap returns the cause (fs.ErrNotExist, ErrMalformedTokensFile, ...).
func (e *TokensFileError) Unwrap() error { return e.Err }

// ReadTokensFile reads a tokens file: access_token is required; refresh_token,
// auth_server_url, realm, client_id, pid, timestamp and refresh_status are optional;
// other members are ignored. Anything that is not a regular file (a FIFO, a device, a
// folder) is refused before it is read, and at most 1 MiB is read.
func ReadTokensFile(path string) (TokensFile, error) {
	data, err := readRegular(path)
	if err != nil {
		return TokensFile{}, err
	}
	return ParseTokensFile(path, data)
}

// readRegular reads a regular file, bounded, without blocking on anything else: it
// checks the type before opening, opens without blocking (a FIFO would wait for a
// writer) and checks again what it opened.
func readRegular(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &TokensFileError{Path: path, Problem: "file not found", Err: fs.ErrNotExist}
		}
		return nil, &TokensFileError{Path: path, Problem: "cannot open: " + errorCause(err), Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	fh, err := openNoBlock(path)
	if err != nil {
		return nil, &TokensFileError{Path: path, Problem: "cannot open: " + errorCause(err), Err: err}
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil || !st.Mode().IsRegular() {
		if err != nil {
			return nil, &TokensFileError{Path: path, Problem: "cannot open: " + errorCause(err), Err: err}
		}
		return nil, notRegular(path, st.Mode())
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxTokensFileBytes+1))
	if err != nil {
		return nil, &TokensFileError{Path: path, Problem: "cannot read: " + errorCause(err), Err: err}
	}
	if len(data) > maxTokensFileBytes {
		return nil, &TokensFileError{Path: path, Problem: fmt.Sprintf("larger than %d bytes", maxTokensFileBytes), Err: ErrMalformedTokensFile}
	}
	return data, nil
}

func notRegular(path string, mode fs.FileMode) error {
	return &TokensFileError{Path: path, Problem: "not a regular file (" + mode.Type().String() + "); refusing to read it", Err: ErrNotRegularFile}
}

// ParseTokensFile parses the contents of a tokens file; path is only for errors.
func ParseTokensFile(path string, data []byte) (TokensFile, error) {
	var w tokensFileJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return TokensFile{}, &TokensFileError{Path: path, Problem: "decoding JSON failed: " + jsonProblem(err), Err: ErrMalformedTokensFile}
	}
	if w.AccessToken == nil || *w.AccessToken == "" {
		return TokensFile{}, &TokensFileError{Path: path, Problem: "access_token is missing", Err: ErrMalformedTokensFile}
	}
	refresh := ""
	if w.RefreshToken != nil {
		refresh = *w.RefreshToken
	}
	f := TokensFile{RefreshStatus: w.RefreshStatus, AuthServerURL: w.AuthServerURL, Realm: w.Realm,
		ClientID: w.ClientID, Tokens: NewTokens(*w.AccessToken, refresh)}
	if w.PID != nil {
		f.PID = *w.PID
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, w.Timestamp); err == nil {
			f.Timestamp = t
			break
		}
	}
	return f, nil
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

// WriteTokensFile writes f to path under the file's lock (LockTokensFile), atomically
// and with mode 0600: a temporary file in the same folder, written and synced, renamed
// over path, and the folder synced, so that a crash leaves either the old file or the
// new one. The members of the file being replaced that this package does not own (pid,
// and any other) are kept exactly as they were; f.PID is never written. Timestamp
// defaults to now. Temporary files that a killed writer left behind are removed.
func WriteTokensFile(ctx context.Context, path string, f TokensFile) error {
	unlock, err := LockTokensFile(ctx, path)
	if err != nil {
		return err
	}
	defer unlock()
	return writeLocked(path, f)
}

// writeLocked is WriteTokensFile with the lock held.
func writeLocked(path string, f TokensFile) error {
	access := f.Tokens.AccessToken()
	if access == "" {
		return &TokensFileError{Path: path, Problem: "no access token to write", Err: ErrMalformedTokensFile}
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
	var old []member
	if data, err := readRegular(path); err == nil {
		old, _ = members(data)
	}
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
	for _, m := range old {
		if _, ours := owned[m.key]; ours || isOwned(m.key) {
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
	return replaceFile(path, b.Bytes())
}

func isOwned(key string) bool {
	for _, k := range ownedMembers {
		if k == key {
			return true
		}
	}
	return false
}

// replaceFile writes data to a temporary file beside path and renames it over path.
func replaceFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &TokensFileError{Path: path, Problem: "cannot create its folder: " + errorCause(err), Err: err}
	}
	removeStaleTemps(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+"*"+tempSuffix)
	if err != nil {
		return &TokensFileError{Path: path, Problem: "cannot create a temporary file: " + errorCause(err), Err: err}
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return &TokensFileError{Path: path, Problem: "cannot set mode 0600: " + errorCause(err), Err: err}
	}
	if _, err := tmp.Write(data); err != nil {
		return &TokensFileError{Path: path, Problem: "cannot write: " + errorCause(err), Err: err}
	}
	if err := tmp.Sync(); err != nil {
		return &TokensFileError{Path: path, Problem: "cannot sync: " + errorCause(err), Err: err}
	}
	if err := tmp.Close(); err != nil {
		return &TokensFileError{Path: path, Problem: "cannot close: " + errorCause(err), Err: err}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return &TokensFileError{Path: path, Problem: "cannot replace: " + errorCause(err), Err: err}
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

const tempSuffix = ".tmp"

// tempPrefix is how the temporary files of path begin: ".tokens.json." for tokens.json.
func tempPrefix(path string) string { return "." + filepath.Base(path) + "." }

// removeStaleTemps removes the temporary files of path that a writer killed mid-write
// left behind (they hold full tokens). Called with the lock held, so no other writer
// of this package is writing one.
func removeStaleTemps(path string) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return
	}
	prefix := tempPrefix(path)
	for _, e := range entries {
		name := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(name, prefix) && strings.HasSuffix(name, tempSuffix) &&
			len(name) > len(prefix)+len(tempSuffix) {
			_ = os.Remove(filepath.Join(filepath.Dir(path), name))
		}
	}
}

// RemoveTokensFile removes the tokens file at path and any temporary file of it left
// behind, under the file's lock. A missing file is not an error.
func RemoveTokensFile(ctx context.Context, path string) error {
	unlock, err := LockTokensFile(ctx, path)
	if err != nil {
		return err
	}
	defer unlock()
	return removeLocked(path)
}

func removeLocked(path string) error {
	removeStaleTemps(path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &TokensFileError{Path: path, Problem: "cannot remove: " + errorCause(err), Err: err}
	}
	return nil
}

// LockTokensFile takes the advisory lock of the tokens file at path, an flock on the
// sibling file path+".lock" (created with mode 0600, never removed), so that
// processes that read, renew and write the file do it one at a time. It waits until
// the lock is free, ctx ends, or DefaultLockTimeout passes when ctx has no deadline;
// waiting too long is ErrLockTimeout. Call unlock when done.
func LockTokensFile(ctx context.Context, path string) (unlock func(), err error) {
	return lockTokensFile(ctx, path, nil)
}

func lockTokensFile(ctx context.Context, path string, onWait func()) (unlock func(), err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultLockTimeout)
		defer cancel()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &TokensFileError{Path: path, Problem: "cannot create its folder: " + errorCause(err), Err: err}
	}
	return lockFile(ctx, path, path+".lock", onWait)
}

// DefaultTokensFile is where the Cortex CLI keeps its tokens:
// ~/.cache/iqm-cortex-cli/tokens.json (the user cache folder elsewhere).
func DefaultTokensFile() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", &ConfigError{Setting: "tokens file", Problem: "no user cache folder: set IQM_TOKENS_FILE", Err: ErrConfig}
	}
	return filepath.Join(dir, "iqm-cortex-cli", "tokens.json"), nil
}

// expandHome expands a leading ~/ the way the Python client's paths are written.
func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}

// TokensFilePermissionProblems describes, for a warning, what makes the tokens file at
// path readable or writable by others: its own mode (anything beyond 0600) and its
// folder's (writable by group or others). It reports nothing it cannot check.
func TokensFilePermissionProblems(path string) []string {
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
