package keys

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Sizes Auth0 accepts.
const (
	// MinBits is the smallest RSA modulus size Auth0 accepts.
	MinBits = 2048
	// MaxBits is the largest RSA modulus size Auth0 accepts.
	MaxBits = 4096
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrNotPEM reports input without a usable PEM block.
	ErrNotPEM = errors.New("not PEM")
	// ErrEncrypted reports a password-protected PEM key.
	ErrEncrypted = errors.New("encrypted PEM")
	// ErrNotRSA reports a key that is not RSA (EC, Ed25519, ...).
	ErrNotRSA = errors.New("not an RSA key")
	// ErrKeySize reports an RSA key outside MinBits..MaxBits.
	ErrKeySize = errors.New("unsupported RSA key size")
	// ErrCertExpired reports an expired certificate or a non-positive validity period.
	ErrCertExpired = errors.New("certificate expired")
	// ErrMismatch reports a private key that does not belong to a public key.
	ErrMismatch = errors.New("key mismatch")
	// ErrExists reports a refusal to overwrite an existing file.
	ErrExists = errors.New("file exists")
)

// Generate returns a new RSA private key of 2048, 3072 or 4096 bits.
func Generate(bits int) (*rsa.PrivateKey, error) {
	switch bits {
	case 2048, 3072, 4096:
	default:
		return nil, fmt.Errorf("keys: cannot generate a %d-bit RSA key; choose 2048, 3072 or 4096 bits: %w", bits, ErrKeySize)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("keys: generate %d-bit RSA key: %w", bits, err)
	}
	return k, nil
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of pub, the kid Auth0 computes.
func Thumbprint(pub *rsa.PublicKey) string {
	if pub == nil || pub.N == nil {
		return ""
	}
	b64 := base64.RawURLEncoding.EncodeToString
	e := big.NewInt(int64(pub.E)).Bytes()
	// Members in lexicographic order, no whitespace; base64url needs no JSON escaping.
	jwk := `{"e":"` + b64(e) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return b64(sum[:])
}

// PrivatePEM encodes k as a PKCS#8 "PRIVATE KEY" PEM block.
func PrivatePEM(k *rsa.PrivateKey) ([]byte, error) {
	if k == nil {
		return nil, errors.New("keys: nil private key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("keys: encode private key: %w", err)
	}
	defer clear(der)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicPEM encodes pub as an SPKI "PUBLIC KEY" PEM block.
func PublicPEM(pub *rsa.PublicKey) ([]byte, error) {
	if pub == nil {
		return nil, errors.New("keys: nil public key")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("keys: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// SelfSignedCert returns a self-signed "CERTIFICATE" PEM for k valid from notBefore to notAfter.
func SelfSignedCert(k *rsa.PrivateKey, commonName string, notBefore, notAfter time.Time) ([]byte, error) {
	if k == nil {
		return nil, errors.New("keys: nil private key")
	}
	if err := checkSize(k.N.BitLen()); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("keys: certificate validity is empty (notAfter %s is not after notBefore %s); pick a later end date: %w",
			stamp(notAfter), stamp(notBefore), ErrCertExpired)
	}
	if !notAfter.After(time.Now()) {
		return nil, fmt.Errorf("keys: certificate would already be expired (notAfter %s is in the past); pick a future end date: %w",
			stamp(notAfter), ErrCertExpired)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("keys: certificate serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)), // never zero
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		SignatureAlgorithm:    x509.SHA256WithRSA,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, fmt.Errorf("keys: create certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// Match reports ErrMismatch unless priv is the private half of pub.
func Match(priv *rsa.PrivateKey, pub *rsa.PublicKey) error {
	if priv == nil || pub == nil {
		return fmt.Errorf("keys: missing key to compare: %w", ErrMismatch)
	}
	if priv.E != pub.E || priv.N.Cmp(pub.N) != 0 {
		return fmt.Errorf("keys: private key (kid %s) does not match public key (kid %s); use the private key that belongs to this public key or certificate: %w",
			Thumbprint(&priv.PublicKey), Thumbprint(pub), ErrMismatch)
	}
	return nil
}

// checkSize reports ErrKeySize unless bits is within MinBits..MaxBits.
func checkSize(bits int) error {
	if bits < MinBits || bits > MaxBits {
		return fmt.Errorf("RSA key is %d bits; Auth0 accepts %d to %d (generate a new key with 2048, 3072 or 4096 bits): %w",
			bits, MinBits, MaxBits, ErrKeySize)
	}
	return nil
}

// stamp formats t for error messages.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
