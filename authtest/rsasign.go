package authtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
)

// signingPrimes is how many primes the server's RSA-2048 key has. Three primes of
// about 683 bits make the same kind of key on the wire as Keycloak's two-prime one
// (a 2048-bit modulus, e = 65537: a verifier cannot tell them apart), and the most
// that "On the Security of Multi-prime RSA" (Hinek, 2006, Table 1), cited by Go's
// rsa.GenerateMultiPrimeKey, allows for 2048 bits. With the Chinese remainder theorem
// over three primes a signature costs about half of Go's two-prime one; and the
// signature is most of the CPU a grant costs (BENCHMARKS.md).
const signingPrimes = 3

// crtSigner signs RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with a multi-prime key by
// Garner's form of the Chinese remainder theorem. crypto/rsa signs multi-prime keys
// without the theorem (slower than two primes), hence this. math/big is not constant
// time: fit for a test server whose key lives as long as its process and that
// listens on loopback; not for a key that matters.
type crtSigner struct {
	size   int        // bytes of the modulus
	primes []*big.Int // p_i
	exps   []*big.Int // d mod (p_i - 1)
	coefs  []*big.Int // (p_0 ... p_{i-1})^-1 mod p_i; coefs[0] unused
}

// pkcs1SHA256Prefix is the DER DigestInfo header of a SHA-256 digest (RFC 8017, 9.2).
var pkcs1SHA256Prefix = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
	0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

var errSignerSelfTest = errors.New("authtest: RSA signer failed its self-test")

// newCRTSigner precomputes the CRT values of key and checks, by a signature that
// crypto/rsa verifies, that they sign correctly.
func newCRTSigner(key *rsa.PrivateKey) (*crtSigner, error) {
	s := &crtSigner{size: (key.N.BitLen() + 7) / 8}
	one := big.NewInt(1)
	prod := big.NewInt(1)
	for i, p := range key.Primes {
		s.primes = append(s.primes, p)
		s.exps = append(s.exps, new(big.Int).Mod(key.D, new(big.Int).Sub(p, one)))
		var coef *big.Int
		if i > 0 {
			if coef = new(big.Int).ModInverse(prod, p); coef == nil {
				return nil, errSignerSelfTest
			}
		}
		s.coefs = append(s.coefs, coef)
		prod = new(big.Int).Mul(prod, p)
	}
	if prod.Cmp(key.N) != 0 {
		return nil, errSignerSelfTest
	}
	digest := sha256.Sum256([]byte("self-test"))
	if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], s.sign(digest[:])) != nil {
		return nil, errSignerSelfTest
	}
	return s, nil
}

// sign returns the PKCS #1 v1.5 signature of a SHA-256 digest.
func (s *crtSigner) sign(digest []byte) []byte {
	em := make([]byte, s.size) // 0x00 0x01 0xff... 0x00 DigestInfo digest
	em[1] = 1
	t := len(pkcs1SHA256Prefix) + len(digest)
	for i := 2; i < s.size-t-1; i++ {
		em[i] = 0xff
	}
	copy(em[s.size-t:], pkcs1SHA256Prefix)
	copy(em[s.size-len(digest):], digest)
	m := new(big.Int).SetBytes(em)

	r := new(big.Int)
	x := new(big.Int).Exp(r.Mod(m, s.primes[0]), s.exps[0], s.primes[0])
	prod := new(big.Int).Set(s.primes[0])
	h := new(big.Int)
	for i := 1; i < len(s.primes); i++ {
		p := s.primes[i]
		xi := new(big.Int).Exp(r.Mod(m, p), s.exps[i], p)
		// x += prod * ((xi - x) * coef mod p): x stays m^d mod prod.
		h.Sub(xi, x)
		h.Mul(h, s.coefs[i])
		h.Mod(h, p)
		x.Add(x, h.Mul(h, prod))
		prod.Mul(prod, p)
	}
	return x.FillBytes(em)
}

// generateSigningKey makes the server's RSA-2048 key with signingPrimes primes.
func generateSigningKey() (*rsa.PrivateKey, error) {
	//lint:ignore SA1019 deprecated for keys that leave the process or must be FIPS; this one does neither (see signingPrimes)
	key, err := rsa.GenerateMultiPrimeKey(rand.Reader, signingPrimes, 2048)
	if err != nil {
		return nil, err
	}
	if key.N.BitLen() != 2048 || len(key.Primes) != signingPrimes {
		return nil, errSignerSelfTest
	}
	return key, nil
}
