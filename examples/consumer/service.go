package consumer

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/generated"
	"github.com/iqm-finland/authschema/validate"
)

// Service issues tokens for the users it knows, on an endpoint of its own: it takes the
// shared AuthRequest as JSON, decodes it strictly and checks it with the shared
// per-kind rules, and answers the shared TokenResponse or OAuth2Error. It implements
// the ServerInterface generated from api.yaml.
type Service struct {
	mu      sync.Mutex
	users   map[string][sha256.Size]byte // password hashes
	refresh map[string]string            // refresh token -> username
}

var _ ServerInterface = (*Service)(nil)

// NewService makes a Service with no users.
func NewService() *Service {
	return &Service{users: map[string][sha256.Size]byte{}, refresh: map[string]string{}}
}

// AddUser adds a user.
func (s *Service) AddUser(name, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[name] = sha256.Sum256([]byte(password))
}

// IssueToken implements ServerInterface.
func (s *Service) IssueToken(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.DefaultMaxBodyBytes))
	if err != nil {
		answerError(w, http.StatusBadRequest, generated.OAuth2ErrorCodeInvalidRequest, "cannot read the body")
		return
	}
	// The shared codec and rules: an unknown or repeated key, a field the request's
	// kind may not use, a missing one; the message names the field, never a value.
	req, kind, err := api.DecodeJSONRequest(body)
	if err != nil {
		answerError(w, http.StatusBadRequest, generated.OAuth2ErrorCodeInvalidRequest, err.Error())
		return
	}
	var user string
	switch kind {
	case validate.KindPassword:
		if !s.checkPassword(*req.Username, *req.Password) {
			answerError(w, http.StatusUnauthorized, generated.OAuth2ErrorCodeInvalidGrant, "Invalid user credentials")
			return
		}
		user = *req.Username
	case validate.KindRefresh:
		var ok bool
		if user, ok = s.useRefreshToken(*req.RefreshToken); !ok {
			answerError(w, http.StatusBadRequest, generated.OAuth2ErrorCodeInvalidGrant, "Invalid refresh token")
			return
		}
	default:
		answerError(w, http.StatusBadRequest, generated.OAuth2ErrorCodeUnsupportedGrantType, "a logout request is not served here")
		return
	}
	tr := api.NewTokenResponse(s.newToken(user, false), 300, s.newToken(user, true), 1800, "profile", "")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(api.EncodeTokenResponse(&tr))
}

func (s *Service) checkPassword(user, password string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	want, ok := s.users[user]
	got := sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1 && ok
}

func (s *Service) useRefreshToken(token string) (user string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if user, ok = s.refresh[token]; ok {
		delete(s.refresh, token) // rotated: each refresh token is used once
	}
	return user, ok
}

func (s *Service) newToken(user string, refresh bool) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	if refresh {
		s.mu.Lock()
		s.refresh[tok] = user
		s.mu.Unlock()
	}
	return tok
}

// answerError writes the shared OAuth2Error.
func answerError(w http.ResponseWriter, status int, code generated.OAuth2ErrorCode, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(generated.OAuth2Error{Error: string(code), ErrorDescription: &description})
}
