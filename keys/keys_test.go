package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// Keys shared across tests; RSA generation is slow.
var (
	testKey  = sync.OnceValue(func() *rsa.PrivateKey { return mustGenerate(2048) })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return mustGenerate(2048) })
	smallKey = sync.OnceValue(func() *rsa.PrivateKey { return mustGenerate(1024) })
)

func mustGenerate(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustPEM(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestThumbprintRFC7638(t *testing.T) {
	// The RFC 7638 section 3.1 example key (2048 bits, so 342 base64url characters).
	const (
		n    = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
		want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	)
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(nb) != 256 {
		t.Fatalf("test vector modulus is %d bytes, want 256", len(nb))
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537} // e = "AQAB"
	if got := Thumbprint(pub); got != want {
		t.Fatalf("Thumbprint = %q, want %q", got, want)
	}
}

func TestGenerate3072(t *testing.T) { checkGenerate(t, 3072) }

func TestGenerate4096(t *testing.T) { checkGenerate(t, 4096) }

func checkGenerate(t *testing.T, bits int) {
	t.Parallel()
	k, err := Generate(bits)
	if err != nil {
		t.Fatalf("Generate(%d): %v", bits, err)
	}
	if got := k.N.BitLen(); got != bits {
		t.Fatalf("Generate(%d) made a %d-bit key", bits, got)
	}
	if err := k.Validate(); err != nil {
		t.Fatalf("Generate(%d) made an invalid key: %v", bits, err)
	}
}

func TestGenerateRejectsSizes(t *testing.T) {
	for _, bits := range []int{0, 1024, 2047, 2049, 5000, 8192} {
		_, err := Generate(bits)
		if !errors.Is(err, ErrKeySize) {
			t.Errorf("Generate(%d) error = %v, want ErrKeySize", bits, err)
			continue
		}
		if !strings.Contains(err.Error(), "2048, 3072 or 4096") {
			t.Errorf("Generate(%d) error %q does not list the allowed sizes", bits, err)
		}
	}
}

func TestPEMRoundTrip(t *testing.T) {
	k := testKey()
	privPEM, err := PrivatePEM(k)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(privPEM), "-----BEGIN PRIVATE KEY-----\n") {
		t.Fatalf("PrivatePEM is not PKCS#8: %.30q", privPEM)
	}
	got, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(k) {
		t.Fatal("PKCS#8 round trip changed the key")
	}

	pkcs1 := mustPEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	if got, err := ParsePrivateKey(pkcs1); err != nil || !got.Equal(k) {
		t.Fatalf("PKCS#1 parse: %v", err)
	}

	pubPEM, err := PublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pubPEM), "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("PublicPEM is not SPKI: %.30q", pubPEM)
	}
	for name, data := range map[string][]byte{
		"SPKI":   pubPEM,
		"PKCS#1": mustPEM(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.PublicKey)),
	} {
		p, err := ParsePublic(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !p.Key.Equal(&k.PublicKey) || p.Cert != nil {
			t.Fatalf("%s: wrong key or unexpected cert", name)
		}
		if _, ok := p.NotAfter(); ok {
			t.Fatalf("%s: NotAfter reported a date for a bare key", name)
		}
		if err := Match(k, p.Key); err != nil {
			t.Fatalf("%s: Match: %v", name, err)
		}
	}
}

func TestSelfSignedCert(t *testing.T) {
	k := testKey()
	notBefore := time.Now().Add(-time.Minute).Truncate(time.Second)
	notAfter := notBefore.Add(365 * 24 * time.Hour)
	certPEM, err := SelfSignedCert(k, "rekey test", notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePublic(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Cert
	if c == nil {
		t.Fatal("ParsePublic of a certificate returned no Cert")
	}
	if c.Subject.CommonName != "rekey test" || c.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("cert CN %q alg %v", c.Subject.CommonName, c.SignatureAlgorithm)
	}
	if c.SerialNumber.Sign() <= 0 {
		t.Errorf("serial %v is not positive", c.SerialNumber)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("certificate is not self-signed by k: %v", err)
	}
	if got, ok := p.NotAfter(); !ok || !got.Equal(notAfter) {
		t.Errorf("NotAfter = %v, %v; want %v, true", got, ok, notAfter)
	}
	if err := Match(k, p.Key); err != nil {
		t.Error(err)
	}

	// A second certificate gets a different random serial.
	again, err := SelfSignedCert(k, "rekey test", notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := ParsePublic(again); p2.Cert.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("two certificates share a serial number")
	}
}

func TestSelfSignedCertRejectsValidity(t *testing.T) {
	k := testKey()
	now := time.Now()
	for name, tc := range map[string][2]time.Time{
		"notAfter in past":      {now.Add(-48 * time.Hour), now.Add(-time.Hour)},
		"notAfter == notBefore": {now.Add(time.Hour), now.Add(time.Hour)},
		"notAfter < notBefore":  {now.Add(2 * time.Hour), now.Add(time.Hour)},
	} {
		if _, err := SelfSignedCert(k, "x", tc[0], tc[1]); !errors.Is(err, ErrCertExpired) {
			t.Errorf("%s: error = %v, want ErrCertExpired", name, err)
		}
	}
	small := smallKey()
	if _, err := SelfSignedCert(small, "x", now, now.Add(time.Hour)); !errors.Is(err, ErrKeySize) {
		t.Errorf("1024-bit key: error = %v, want ErrKeySize", err)
	}
}

func TestMatch(t *testing.T) {
	k, other := testKey(), otherKey()
	err := Match(k, &other.PublicKey)
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("Match of different keys = %v, want ErrMismatch", err)
	}
	if !strings.Contains(err.Error(), Thumbprint(&other.PublicKey)) {
		t.Errorf("mismatch error %q does not name the public kid", err)
	}
	sameN := &rsa.PublicKey{N: k.N, E: 3}
	if err := Match(k, sameN); !errors.Is(err, ErrMismatch) {
		t.Errorf("Match with different exponent = %v, want ErrMismatch", err)
	}
	if err := Match(nil, &k.PublicKey); !errors.Is(err, ErrMismatch) {
		t.Errorf("Match(nil) = %v, want ErrMismatch", err)
	}
}

func TestKeyCertMismatch(t *testing.T) {
	now := time.Now()
	certPEM, err := SelfSignedCert(otherKey(), "other", now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePublic(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := Match(testKey(), p.Key); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Match(key, other cert) = %v, want ErrMismatch", err)
	}
}

func TestBadInput(t *testing.T) {
	k := testKey()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPKCS8, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecSEC1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecSPKI, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	small := smallKey()
	smallPKCS8, err := x509.MarshalPKCS8PrivateKey(small)
	if err != nil {
		t.Fatal(err)
	}
	smallSPKI, err := x509.MarshalPKIXPublicKey(&small.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// A > 4096-bit public key is cheap to fake: parsing checks only the modulus size.
	bigN := new(big.Int).SetBit(big.NewInt(1), 4103, 1) // odd, 4104 bits
	bigSPKI, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: bigN, E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := PublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	legacyEncrypted := pem.EncodeToMemory(&pem.Block{
		Type: "RSA PRIVATE KEY",
		Headers: map[string]string{
			"Proc-Type": "4,ENCRYPTED",
			"DEK-Info":  "AES-256-CBC,00112233445566778899AABBCCDDEEFF",
		},
		Bytes: []byte("0123456789abcdef0123456789abcdef"),
	})

	privCases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotPEM},
		{"text", []byte("hello, not a key"), ErrNotPEM},
		{"DER", privDER, ErrNotPEM},
		{"public key given", pubPEM, ErrNotPEM},
		{"legacy encrypted", legacyEncrypted, ErrEncrypted},
		{"PKCS#8 encrypted", mustPEM(t, "ENCRYPTED PRIVATE KEY", []byte("opaque")), ErrEncrypted},
		{"EC PKCS#8", mustPEM(t, "PRIVATE KEY", ecPKCS8), ErrNotRSA},
		{"EC SEC1", mustPEM(t, "EC PRIVATE KEY", ecSEC1), ErrNotRSA},
		{"RSA 1024 PKCS#8", mustPEM(t, "PRIVATE KEY", smallPKCS8), ErrKeySize},
		{"RSA 1024 PKCS#1", mustPEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), ErrKeySize},
	}
	for _, tc := range privCases {
		t.Run("private/"+tc.name, func(t *testing.T) {
			got, err := ParsePrivateKey(tc.data)
			if !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("ParsePrivateKey = %v, %v; want nil, %v", got, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "keys: ") {
				t.Errorf("error %q lacks the keys: prefix", err)
			}
		})
	}

	pubCases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotPEM},
		{"private key given", mustPEM(t, "PRIVATE KEY", privDER), ErrNotPEM},
		{"EC SPKI", mustPEM(t, "PUBLIC KEY", ecSPKI), ErrNotRSA},
		{"RSA 1024", mustPEM(t, "PUBLIC KEY", smallSPKI), ErrKeySize},
		{"RSA 4104", mustPEM(t, "PUBLIC KEY", bigSPKI), ErrKeySize},
		{"expired cert", expiredCert(t, k), ErrCertExpired},
	}
	for _, tc := range pubCases {
		t.Run("public/"+tc.name, func(t *testing.T) {
			if _, err := ParsePublic(tc.data); !errors.Is(err, tc.want) {
				t.Fatalf("ParsePublic error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestKeySizeMessage(t *testing.T) {
	small := mustPEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(smallKey()))
	_, err := ParsePrivateKey(small)
	want := "keys: RSA key is 1024 bits; Auth0 accepts 2048 to 4096 (generate a new key with 2048, 3072 or 4096 bits): " + ErrKeySize.Error()
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

func TestExpiredCertStillReturnsKey(t *testing.T) {
	k := testKey()
	p, err := ParsePublic(expiredCert(t, k))
	if !errors.Is(err, ErrCertExpired) {
		t.Fatalf("error = %v, want ErrCertExpired", err)
	}
	if p.Key == nil || p.Cert == nil || Match(k, p.Key) != nil {
		t.Fatal("expired certificate did not come back with its key")
	}
	if na, ok := p.NotAfter(); !ok || !na.Before(time.Now()) {
		t.Errorf("NotAfter = %v, %v", na, ok)
	}
}

// expiredCert builds a certificate for k that expired an hour ago.
func expiredCert(t *testing.T, k *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "expired"},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return mustPEM(t, "CERTIFICATE", der)
}

func TestPrivateKeyNotInErrors(t *testing.T) {
	k := testKey()
	privPEM, err := PrivatePEM(k)
	if err != nil {
		t.Fatal(err)
	}
	// Corrupt the body so parsing fails after PEM decoding.
	block, _ := pem.Decode(privPEM)
	block.Bytes = block.Bytes[:len(block.Bytes)/2]
	_, err = ParsePrivateKey(pem.EncodeToMemory(block))
	if err == nil {
		t.Fatal("truncated key parsed")
	}
	body := base64.StdEncoding.EncodeToString(block.Bytes)
	if strings.Contains(err.Error(), body[:32]) || strings.Contains(err.Error(), k.D.String()[:20]) {
		t.Fatalf("error leaks key material: %v", err)
	}
}
