package tokensfile

import (
	"bytes"
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
	// ErrCannotLock: the lock file can be neither opened nor created (a folder this
	// user may read but not write, say); the cause from os is wrapped too. Nothing
	// could be written there either, but the file may still be read without the lock.
	ErrCannotLock = errors.New("cannot open or create the tokens file's lock file")
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
	return parse(path, data)
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

// parse parses the contents of a tokens file (see Read); path is only for errors.
func parse(path string, data []byte) (File, error) {
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
// other writer of this package is writing one, and after the read under the lock has
// recovered one that held newer tokens than path (see Tx).
func removeStaleTemps(path, keep string) {
	for _, e := range temps(path) {
		if name := filepath.Join(filepath.Dir(path), e.Name()); name != keep {
			_ = os.Remove(name)
		}
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
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
