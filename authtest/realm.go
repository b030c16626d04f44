package authtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// userInfo describes a user beyond the password: what Keycloak puts in the tokens'
// profile claims (WithRealmJSON's users set it). An empty ID gets a stable one derived from the realm and the
// username.
type userInfo struct {
	ID            string
	Username      string
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
	// RealmRoles are the user's realm roles. Keycloak gives a user it creates
	// default-roles-<realm> (offline_access, uma_authorization and the account
	// client's manage-account, manage-account-links and view-profile), which put aud
	// "account", realm_access and resource_access in the access token; a user from a
	// realm file has only the roles the file lists.
	RealmRoles []string
}

// ErrRealmFile is wrapped by the errors of WithRealmJSON.
var ErrRealmFile = errors.New("authtest: realm file")

// realmFile is the part of Keycloak's realm representation (the JSON that kc.sh
// import and --import-realm read) that the server uses.
type realmFile struct {
	Realm                 string        `json:"realm"`
	Enabled               *bool         `json:"enabled"`
	RevokeRefreshToken    bool          `json:"revokeRefreshToken"`
	RefreshTokenMaxReuse  int           `json:"refreshTokenMaxReuse"`
	AccessTokenLifespan   *int64        `json:"accessTokenLifespan"`
	SSOSessionIdleTimeout *int64        `json:"ssoSessionIdleTimeout"`
	SSOSessionMaxLifespan *int64        `json:"ssoSessionMaxLifespan"`
	Clients               []realmClient `json:"clients"`
	Users                 []realmUser   `json:"users"`
}

type realmClient struct {
	ClientID                  string `json:"clientId"`
	Enabled                   *bool  `json:"enabled"`
	PublicClient              bool   `json:"publicClient"`
	BearerOnly                bool   `json:"bearerOnly"`
	DirectAccessGrantsEnabled bool   `json:"directAccessGrantsEnabled"`
	Secret                    string `json:"secret"`
}

type realmUser struct {
	ID              string            `json:"id"`
	Username        string            `json:"username"`
	Enabled         bool              `json:"enabled"`
	Email           string            `json:"email"`
	EmailVerified   bool              `json:"emailVerified"`
	FirstName       string            `json:"firstName"`
	LastName        string            `json:"lastName"`
	RequiredActions []string          `json:"requiredActions"`
	RealmRoles      []string          `json:"realmRoles"`
	Credentials     []realmCredential `json:"credentials"`
}

type realmCredential struct {
	Type      string `json:"type"`
	Value     string `json:"value"`
	Temporary bool   `json:"temporary"`
	// SecretData is set for a hashed password, which the server cannot use.
	SecretData string `json:"secretData"`
}

// maxRealmFile bounds a realm file.
const maxRealmFile = 16 << 20

// parseRealmFile reads one realm, or a JSON array of realms, as Keycloak imports them.
// Its errors name the realm, client or user and the problem, never a value.
func parseRealmFile(data []byte) ([]*realmConfig, error) {
	if len(data) > maxRealmFile {
		return nil, fmt.Errorf("%w: over %d bytes", ErrRealmFile, maxRealmFile)
	}
	var files []realmFile
	data = bytes.TrimSpace(data)
	var err error
	if len(data) > 0 && data[0] == '[' {
		err = json.Unmarshal(data, &files)
	} else {
		files = make([]realmFile, 1)
		err = json.Unmarshal(data, &files[0])
	}
	if err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("%w: not JSON (at byte %d)", ErrRealmFile, se.Offset)
		case errors.As(err, &te):
			return nil, fmt.Errorf("%w: %s must be a %s", ErrRealmFile, te.Field, te.Type)
		}
		return nil, fmt.Errorf("%w: not a realm representation", ErrRealmFile)
	}
	var out []*realmConfig
	for _, f := range files {
		r, err := f.config()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (f *realmFile) config() (*realmConfig, error) {
	if f.Realm == "" {
		return nil, fmt.Errorf("%w: a realm has no name (\"realm\")", ErrRealmFile)
	}
	r := &realmConfig{name: f.Realm, rotation: f.RevokeRefreshToken, maxReuse: f.RefreshTokenMaxReuse,
		disabled: f.Enabled != nil && !*f.Enabled}
	secs := func(p *int64) *time.Duration {
		if p == nil {
			return nil
		}
		d := time.Duration(*p) * time.Second
		return &d
	}
	r.accessTTL, r.refreshTTL, r.maxLifespan = secs(f.AccessTokenLifespan), secs(f.SSOSessionIdleTimeout), secs(f.SSOSessionMaxLifespan)
	for _, c := range f.Clients {
		if c.ClientID == "" {
			return nil, fmt.Errorf("%w: realm %q: a client has no clientId", ErrRealmFile, f.Realm)
		}
		r.clients = append(r.clients, clientConfig{id: c.ClientID, public: c.PublicClient, bearerOnly: c.BearerOnly,
			directGrants: c.DirectAccessGrantsEnabled, disabled: c.Enabled != nil && !*c.Enabled, secret: c.Secret})
	}
	for _, u := range f.Users {
		if u.Username == "" {
			return nil, fmt.Errorf("%w: realm %q: a user has no username", ErrRealmFile, f.Realm)
		}
		uc := userConfig{info: userInfo{ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
			FirstName: u.FirstName, LastName: u.LastName, RealmRoles: u.RealmRoles}, disabled: !u.Enabled,
			requiredActions: len(u.RequiredActions) > 0}
		for _, cr := range u.Credentials {
			if cr.Type != "password" {
				continue
			}
			if cr.Value == "" {
				return nil, fmt.Errorf("%w: realm %q, user %q: only a password credential with a clear-text \"value\" can be used (not a hashed one)",
					ErrRealmFile, f.Realm, u.Username)
			}
			uc.password = cr.Value
			uc.requiredActions = uc.requiredActions || cr.Temporary
		}
		r.users = append(r.users, uc)
	}
	return r, nil
}

// keycloakVersion is the Keycloak release whose answers the server gives, where
// releases differ.
type keycloakVersion struct{ major, minor int }

// DefaultKeycloakVersion is the release a new server answers as.
const DefaultKeycloakVersion = "26.7"

// ErrKeycloakVersion is wrapped by NewServer's error for a Keycloak version it does
// not know.
var ErrKeycloakVersion = errors.New("authtest: Keycloak version must be like 26.7, between 24.0 and " + DefaultKeycloakVersion)

func parseKeycloakVersion(s string) (keycloakVersion, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 1 || len(parts) > 3 {
		return keycloakVersion{}, ErrKeycloakVersion
	}
	var v keycloakVersion
	var err error
	if v.major, err = strconv.Atoi(parts[0]); err != nil {
		return keycloakVersion{}, ErrKeycloakVersion
	}
	if len(parts) > 1 {
		if v.minor, err = strconv.Atoi(parts[1]); err != nil {
			return keycloakVersion{}, ErrKeycloakVersion
		}
	}
	if v.major < 24 || v.major > 26 || v.minor < 0 {
		return keycloakVersion{}, ErrKeycloakVersion
	}
	return v, nil
}

// since266 tells whether the release is 26.6 or later. Measured differences between
// 26.7.3 and 26.5.6: bad credentials are 400 (401 before), refresh tokens carry prov
// and aud_x, and userinfo's answers carry Cache-Control: no-store and Pragma.
func (v keycloakVersion) since266() bool { return v.major > 26 || v.major == 26 && v.minor >= 6 }

// badCredentialsStatus: 400 from Keycloak 26.6 on, 401 before.
func (v keycloakVersion) badCredentialsStatus() int {
	if v.since266() {
		return 400
	}
	return 401
}

// defaultScope is the granted scope string: "profile email" on 26.7.3, "email
// profile" on 26.5.6 (measured).
func (v keycloakVersion) defaultScope() string {
	if v.since266() {
		return "profile email"
	}
	return "email profile"
}
