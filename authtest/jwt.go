package authtest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"time"
)

// claims are the JWT claims the server writes and reads, in the order Keycloak writes
// them. Empty members are left out, as Keycloak leaves out nulls.
type claims struct {
	Exp            int64           `json:"exp,omitempty"`
	Iat            int64           `json:"iat"`
	Jti            string          `json:"jti"`
	Iss            string          `json:"iss"`
	Aud            string          `json:"aud,omitempty"`
	Sub            string          `json:"sub"`
	Typ            string          `json:"typ"`
	Azp            string          `json:"azp"`
	Sid            string          `json:"sid"`
	AtHash         string          `json:"at_hash,omitempty"`
	Acr            string          `json:"acr,omitempty"`
	RealmAccess    json.RawMessage `json:"realm_access,omitempty"`
	ResourceAccess json.RawMessage `json:"resource_access,omitempty"`
	Scope          string          `json:"scope,omitempty"`
	ReuseID        string          `json:"reuse_id,omitempty"`
	AudX           string          `json:"aud_x,omitempty"` // a refresh token's: the access token's aud
	Prov           string          `json:"prov,omitempty"`
	profile
}

// profile is a user's profile claims, in access and ID tokens and userinfo's answer.
type profile struct {
	EmailVerified     *bool  `json:"email_verified,omitempty"`
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	Email             string `json:"email,omitempty"`
}

// signingKey is the RSA-2048 key that signs access and ID tokens (RS256), as
// Keycloak's realm keys do (with three primes, see signingPrimes). One key serves every server of a process: generating one
// costs tens of milliseconds, and a test binary starts hundreds of servers. Tokens of
// one server still fail on another: the issuer differs, and refresh tokens are signed
// with a per-server secret.
type signingKey struct {
	key       *rsa.PublicKey
	signer    *crtSigner
	kid       string // RFC 7638 thumbprint, base64url, as long as Keycloak's kids
	header    string // base64url of the JWT header
	publicB64 string // base64 DER (PKIX), the realm info's public_key
	jwk       jwk
	encJWK    jwk // the same public key as Keycloak's RSA-OAEP "enc" entry
}

type jwk struct {
	Kid     string   `json:"kid"`
	Kty     string   `json:"kty"`
	Alg     string   `json:"alg"`
	Use     string   `json:"use"`
	N       string   `json:"n"`
	E       string   `json:"e"`
	X5c     []string `json:"x5c"`
	X5t     string   `json:"x5t"`
	X5tS256 string   `json:"x5t#S256"`
}

var processKey = sync.OnceValues(func() (*signingKey, error) {
	key, err := generateSigningKey()
	if err != nil {
		return nil, err
	}
	return newSigningKey(key)
})

func newSigningKey(key *rsa.PrivateKey) (*signingKey, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	n, e := b64(key.N.Bytes()), b64(big.NewInt(int64(key.E)).Bytes())
	thumb := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	kid := b64(thumb[:])
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "authtest"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	s1, s256 := sha1.Sum(cert), sha256.Sum256(cert)
	sig := jwk{Kid: kid, Kty: "RSA", Alg: "RS256", Use: "sig", N: n, E: e,
		X5c: []string{base64.StdEncoding.EncodeToString(cert)}, X5t: b64(s1[:]), X5tS256: b64(s256[:])}
	enc := sig
	encThumb := sha256.Sum256([]byte("enc " + kid))
	enc.Kid, enc.Alg, enc.Use = b64(encThumb[:]), "RSA-OAEP", "enc"
	signer, err := newCRTSigner(key)
	if err != nil {
		return nil, err
	}
	return &signingKey{key: &key.PublicKey, signer: signer, kid: kid,
		header:    b64([]byte(`{"alg":"RS256","typ":"JWT","kid":"` + kid + `"}`)),
		publicB64: base64.StdEncoding.EncodeToString(der), jwk: sig, encJWK: enc}, nil
}

// hmacKey signs refresh tokens (HS512), as Keycloak's realm HMAC key does; it is
// random per server.
type hmacKey struct {
	secret [64]byte `redact:"secret"`
	header string
}

func newHMACKey() (*hmacKey, error) {
	k := &hmacKey{}
	if _, err := rand.Read(k.secret[:]); err != nil {
		return nil, err
	}
	k.header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS512","typ":"JWT","kid":"` + newUUID() + `"}`))
	return k, nil
}

func encodeClaims(header string, c *claims) string {
	payload, _ := json.Marshal(c)
	b64 := base64.RawURLEncoding
	buf := make([]byte, 0, len(header)+1+b64.EncodedLen(len(payload))+1+342)
	buf = append(buf, header...)
	buf = append(buf, '.')
	return string(b64.AppendEncode(buf, payload))
}

// signRS256 signs c with the RSA key.
func (k *signingKey) sign(c *claims) string {
	unsigned := encodeClaims(k.header, c)
	digest := sha256.Sum256([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(k.signer.sign(digest[:]))
}

func (k *hmacKey) sign(c *claims) string {
	unsigned := encodeClaims(k.header, c)
	mac := hmac.New(sha512.New, k.secret[:])
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

var errBadToken = errors.New("bad token")

// maxTokenLen bounds the tokens the server reads.
const maxTokenLen = 16 << 10

// split checks the header and returns the signed part, the payload and the signature.
func split(token, header string) (signed string, payload, sig []byte, err error) {
	if len(token) > maxTokenLen {
		return "", nil, nil, errBadToken
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != header {
		return "", nil, nil, errBadToken
	}
	if sig, err = base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return "", nil, nil, errBadToken
	}
	if payload, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
		return "", nil, nil, errBadToken
	}
	return token[:len(parts[0])+1+len(parts[1])], payload, sig, nil
}

func decodeClaims(payload []byte) (claims, error) {
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return claims{}, errBadToken
	}
	return c, nil
}

func (k *signingKey) verify(token string) (claims, error) {
	signed, payload, sig, err := split(token, k.header)
	if err != nil {
		return claims{}, err
	}
	digest := sha256.Sum256([]byte(signed))
	if rsa.VerifyPKCS1v15(k.key, crypto.SHA256, digest[:], sig) != nil {
		return claims{}, errBadToken
	}
	return decodeClaims(payload)
}

func (k *hmacKey) verify(token string) (claims, error) {
	signed, payload, sig, err := split(token, k.header)
	if err != nil {
		return claims{}, err
	}
	mac := hmac.New(sha512.New, k.secret[:])
	mac.Write([]byte(signed))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return claims{}, errBadToken
	}
	return decodeClaims(payload)
}

// atHash is the ID token's at_hash of an access token: the left half of its SHA-256.
func atHash(accessToken string) string {
	h := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// newUUID returns a random (version 4) UUID, as Keycloak's ids are.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// newSessionID returns a session id as Keycloak 26 makes them: 24 base64url
// characters.
func newSessionID() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// nameUUID returns a name-based (version 5) UUID: a user's stable id.
func nameUUID(name string) string {
	h := sha1.Sum(append([]byte("iqm-authschema/authtest user "), name...))
	var b [16]byte
	copy(b[:], h[:16])
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	const hexDigits = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(out)
}
