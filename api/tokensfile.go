package api

import (
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

// ErrMalformedTokensFile is wrapped by the error for a tokens file that is not valid.
var ErrMalformedTokensFile = errors.New("malformed tokens file")

// maxTokensFileBytes bounds how much of a tokens file is read.
const maxTokensFileBytes = 1 << 20

// TokensFile is the tokens file the Cortex CLI writes (default
// ~/.cache/iqm-cortex-cli/tokens.json), plus the realm and client id.
type TokensFile struct {
	// PID is the process that wrote the file (0: not given).
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

// tokensFileJSON is the wire form of the file.
type tokensFileJSON struct {
	PID           *int    `json:"pid,omitempty"`
	Timestamp     string  `json:"timestamp,omitempty"`
	RefreshStatus string  `json:"refresh_status,omitempty"`
	AccessToken   *string `json:"access_token"`
	RefreshToken  *string `json:"refresh_token,omitempty"`
	AuthServerURL string  `json:"auth_server_url,omitempty"`
	Realm         string  `json:"realm,omitempty"`
	ClientID      string  `json:"client_id,omitempty"`
}

// TokensFileError is a tokens file that cannot be read, parsed or written. It names
// the path and the problem, never a token.
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
// other keys are ignored.
func ReadTokensFile(path string) (TokensFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return TokensFile{}, &TokensFileError{Path: path, Problem: "file not found", Err: fs.ErrNotExist}
		}
		return TokensFile{}, &TokensFileError{Path: path, Problem: "cannot open: " + errorCause(err), Err: err}
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxTokensFileBytes+1))
	if err != nil {
		return TokensFile{}, &TokensFileError{Path: path, Problem: "cannot read: " + errorCause(err), Err: err}
	}
	if len(data) > maxTokensFileBytes {
		return TokensFile{}, &TokensFileError{Path: path, Problem: fmt.Sprintf("larger than %d bytes", maxTokensFileBytes), Err: ErrMalformedTokensFile}
	}
	return ParseTokensFile(path, data)
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

// WriteTokensFile writes f atomically, mode 0600: a temporary file in the same folder,
// written and synced, then renamed over path, and the folder synced. A crash leaves
// either the old file or the new one, never a torn one. Timestamp defaults to now and
// PID to this process.
func WriteTokensFile(path string, f TokensFile) error {
	access := f.Tokens.AccessToken()
	if access == "" {
		return &TokensFileError{Path: path, Problem: "no access token to write", Err: ErrMalformedTokensFile}
	}
	w := tokensFileJSON{RefreshStatus: f.RefreshStatus, AccessToken: &access, AuthServerURL: f.AuthServerURL,
		Realm: f.Realm, ClientID: f.ClientID}
	if r := f.Tokens.RefreshToken(); r != "" {
		w.RefreshToken = &r
	}
	pid := f.PID
	if pid == 0 {
		pid = os.Getpid()
	}
	w.PID = &pid
	ts := f.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	w.Timestamp = ts.UTC().Format(time.RFC3339Nano)
	data, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return &TokensFileError{Path: path, Problem: "encoding failed", Err: err}
	}
	data = append(data, '\n')

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &TokensFileError{Path: path, Problem: "cannot create its folder: " + errorCause(err), Err: err}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
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
