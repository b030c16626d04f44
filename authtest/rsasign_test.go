package authtest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"testing"
)

// PKCS #1 v1.5 signatures are deterministic: the CRT signer must give crypto/rsa's
// bytes exactly, for two- and three-prime keys.
func TestCRTSignerMatchesCryptoRSA(t *testing.T) {
	for _, primes := range []int{2, 3} {
		t.Run(fmt.Sprint(primes, " primes"), func(t *testing.T) {
			//lint:ignore SA1019 the signer must match crypto/rsa on multi-prime keys
			key, err := rsa.GenerateMultiPrimeKey(rand.Reader, primes, 2048)
			if err != nil {
				t.Fatal(err)
			}
			s, err := newCRTSigner(key)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 40 {
				digest := sha256.Sum256(fmt.Appendf(nil, "message %d", i))
				want, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
				if err != nil {
					t.Fatal(err)
				}
				if got := s.sign(digest[:]); !bytes.Equal(got, want) {
					t.Fatalf("signature %d differs from crypto/rsa's", i)
				}
			}
		})
	}
}

func TestCRTSignerRefusesAKeyThatDoesNotSign(t *testing.T) {
	key, err := generateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(key.Primes) != signingPrimes || key.N.BitLen() != 2048 {
		t.Fatalf("key has %d primes and %d bits", len(key.Primes), key.N.BitLen())
	}
	bad := *key
	bad.D = new(big.Int).Add(key.D, big.NewInt(2))
	if _, err := newCRTSigner(&bad); err == nil {
		t.Fatal("a key with a wrong private exponent passed the self-test")
	}
}

// BenchmarkRS256Sign is the signature the server makes per access or ID token; compare
// BenchmarkRSASign (crypto/rsa, two primes) in the external test package.
func BenchmarkRS256Sign(b *testing.B) {
	k, err := processKey()
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	b.ReportAllocs()
	for b.Loop() {
		k.signer.sign(digest[:])
	}
}
