package keys

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

// PublicKey is an RSA public key, optionally taken from a certificate.
type PublicKey struct {
	// Key is the RSA public key.
	Key *rsa.PublicKey
	// Cert is the certificate the key came from, or nil for a bare public key.
	Cert *x509.Certificate
}

// NotAfter returns the certificate's expiry time and true, or false for a bare public key.
func (p PublicKey) NotAfter() (time.Time, bool) {
	if p.Cert == nil {
		return time.Time{}, false
	}
	return p.Cert.NotAfter, true
}

// ParsePrivateKey decodes an unencrypted PKCS#8 or PKCS#1 RSA private key PEM.
func ParsePrivateKey(pemData []byte) (*rsa.PrivateKey, error) {
	k, err := parsePrivateKey(pemData)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return k, nil
}

// ParsePublic decodes an RSA "PUBLIC KEY", "RSA PUBLIC KEY" or "CERTIFICATE" PEM.
// For an expired certificate it returns ErrCertExpired together with the parsed key.
func ParsePublic(pemData []byte) (PublicKey, error) {
	p, err := parsePublic(pemData)
	if err != nil {
		return p, fmt.Errorf("keys: %w", err)
	}
	return p, nil
}

func parsePrivateKey(pemData []byte) (*rsa.PrivateKey, error) {
	block, err := findBlock(pemData, "private key", func(typ string) bool {
		return strings.HasSuffix(typ, "PRIVATE KEY")
	})
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		if key, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("parse PKCS#8 private key: %w", err)
		}
	case "RSA PRIVATE KEY":
		if key, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("parse PKCS#1 RSA private key: %w", err)
		}
	case "EC PRIVATE KEY", "DSA PRIVATE KEY":
		return nil, notRSA(strings.TrimSuffix(block.Type, " PRIVATE KEY"))
	case "OPENSSH PRIVATE KEY":
		return nil, fmt.Errorf(`OpenSSH private key format is not supported; convert it to PKCS#8 with: ssh-keygen -p -m PKCS8 -f KEY`)
	default:
		return nil, fmt.Errorf(`unsupported PEM block %q; want "PRIVATE KEY" (PKCS#8) or "RSA PRIVATE KEY" (PKCS#1)`, block.Type)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, notRSA(keyKind(key))
	}
	if err := checkSize(rk.N.BitLen()); err != nil {
		return nil, err
	}
	return rk, nil
}

func parsePublic(pemData []byte) (PublicKey, error) {
	block, err := findBlock(pemData, "public key or certificate", func(typ string) bool {
		return typ == "PUBLIC KEY" || typ == "RSA PUBLIC KEY" || typ == "CERTIFICATE"
	})
	if err != nil {
		return PublicKey{}, err
	}
	var p PublicKey
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		if key, err = x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			return PublicKey{}, fmt.Errorf("parse SPKI public key: %w", err)
		}
	case "RSA PUBLIC KEY":
		if key, err = x509.ParsePKCS1PublicKey(block.Bytes); err != nil {
			return PublicKey{}, fmt.Errorf("parse PKCS#1 RSA public key: %w", err)
		}
	case "CERTIFICATE":
		if p.Cert, err = x509.ParseCertificate(block.Bytes); err != nil {
			return PublicKey{}, fmt.Errorf("parse certificate: %w", err)
		}
		key = p.Cert.PublicKey
	}
	var ok bool
	if p.Key, ok = key.(*rsa.PublicKey); !ok {
		return PublicKey{}, notRSA(keyKind(key))
	}
	if err := checkSize(p.Key.N.BitLen()); err != nil {
		return PublicKey{}, err
	}
	if p.Cert != nil && time.Now().After(p.Cert.NotAfter) {
		return p, fmt.Errorf("certificate %q expired on %s; create a new certificate or key pair: %w",
			p.Cert.Subject.CommonName, stamp(p.Cert.NotAfter), ErrCertExpired)
	}
	return p, nil
}

// findBlock returns the first PEM block in data whose type satisfies want.
func findBlock(data []byte, what string, want func(typ string) bool) (*pem.Block, error) {
	var seen []string
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if !want(b.Type) {
			seen = append(seen, fmt.Sprintf("%q", b.Type))
			continue
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("%s is password-protected; rekey needs it unencrypted (decrypt with: openssl pkey -in KEY -out PLAIN.pem): %w", what, ErrEncrypted)
		}
		return b, nil
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no PEM block found; expected a %s starting with -----BEGIN (convert DER with: openssl pkey -inform DER -in KEY -out KEY.pem): %w", what, ErrNotPEM)
	}
	return nil, fmt.Errorf("no %s PEM block found (found %s); pass the right file: %w", what, strings.Join(seen, ", "), ErrNotPEM)
}

// notRSA reports ErrNotRSA for a key of the named kind.
func notRSA(kind string) error {
	return fmt.Errorf("%s key is not RSA; Auth0 Private Key JWT needs RSA %d to %d bits (generate one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048): %w",
		kind, MinBits, MaxBits, ErrNotRSA)
}

// keyKind names the algorithm of a parsed key for error messages.
func keyKind(key any) string {
	switch key.(type) {
	case *ecdsa.PrivateKey, *ecdsa.PublicKey:
		return "EC"
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "Ed25519"
	case *ecdh.PrivateKey, *ecdh.PublicKey:
		return "X25519/ECDH"
	default:
		return fmt.Sprintf("%T", key)
	}
}
