package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// needOpenSSL skips the test when the openssl CLI is not on PATH.
func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl CLI not on PATH")
	}
}

// openssl runs the openssl CLI with stdin and returns its stdout, failing the test on error.
func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	out, err := tryOpenSSL(stdin, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func tryOpenSSL(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(err.Error() + ": " + stderr.String())
	}
	return out, nil
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestThumbprintMatchesOpenSSL(t *testing.T) {
	needOpenSSL(t)
	k := testKey()
	pubPEM, err := PublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubFile := writeTemp(t, "pub.pem", pubPEM)

	// n: "Modulus=HEX" -> bytes -> base64url.
	modOut := strings.TrimSpace(string(openssl(t, nil, "rsa", "-pubin", "-in", pubFile, "-noout", "-modulus")))
	modHex, ok := strings.CutPrefix(modOut, "Modulus=")
	if !ok {
		t.Fatalf("unexpected -modulus output %q", modOut)
	}
	if len(modHex)%2 == 1 {
		modHex = "0" + modHex
	}
	nBytes, err := hex.DecodeString(modHex)
	if err != nil {
		t.Fatal(err)
	}
	// e: "Exponent: 65537 (0x10001)" -> big-endian bytes -> base64url.
	text := string(openssl(t, nil, "rsa", "-pubin", "-in", pubFile, "-noout", "-text"))
	m := regexp.MustCompile(`Exponent: (\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no exponent in openssl output:\n%s", text)
	}
	e, _ := new(big.Int).SetString(m[1], 10)

	b64 := base64.RawURLEncoding.EncodeToString
	jwk := `{"e":"` + b64(e.Bytes()) + `","kty":"RSA","n":"` + b64(bytes.TrimLeft(nBytes, "\x00")) + `"}`
	digest := openssl(t, []byte(jwk), "dgst", "-sha256", "-binary")
	if len(digest) != sha256.Size {
		t.Fatalf("openssl dgst gave %d bytes", len(digest))
	}
	if want, got := b64(digest), Thumbprint(&k.PublicKey); got != want {
		t.Fatalf("Thumbprint = %q, openssl-derived = %q", got, want)
	}
}

func TestOpenSSLReadsOurFiles(t *testing.T) {
	needOpenSSL(t)
	k := testKey()
	dir := t.TempDir()

	keyFile := filepath.Join(dir, "private.pem")
	if err := WritePrivateKey(keyFile, k); err != nil {
		t.Fatal(err)
	}
	openssl(t, nil, "pkey", "-in", keyFile, "-noout")
	pubPEM, err := PublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := openssl(t, nil, "rsa", "-in", keyFile, "-pubout"); !bytes.Equal(got, pubPEM) {
		t.Fatalf("openssl public key differs:\n%s\nwant\n%s", got, pubPEM)
	}

	notAfter := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	certPEM, err := SelfSignedCert(k, "rekey", time.Now().Add(-time.Minute), notAfter)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "cert.pem")
	if err := WriteFileExclusive(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	end := strings.TrimSpace(string(openssl(t, nil, "x509", "-in", certFile, "-noout", "-enddate")))
	got, err := time.Parse("notAfter=Jan _2 15:04:05 2006 MST", end)
	if err != nil {
		t.Fatalf("parse %q: %v", end, err)
	}
	if !got.Equal(notAfter) {
		t.Errorf("openssl notAfter %v, want %v", got, notAfter)
	}
	if text := openssl(t, nil, "x509", "-in", certFile, "-noout", "-text"); !bytes.Contains(text, []byte("sha256WithRSAEncryption")) {
		t.Errorf("certificate is not SHA-256 RSA signed:\n%s", text)
	}
	if got := openssl(t, nil, "x509", "-in", certFile, "-noout", "-pubkey"); !bytes.Equal(got, pubPEM) {
		t.Errorf("certificate public key differs:\n%s", got)
	}
}

func TestWeReadOpenSSLFiles(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()

	t.Run("PKCS#8 genpkey", func(t *testing.T) {
		f := filepath.Join(dir, "pkcs8.pem")
		openssl(t, nil, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", f)
		checkLoadMatchesOpenSSL(t, f, "-----BEGIN PRIVATE KEY-----")
	})

	t.Run("PKCS#1 genrsa", func(t *testing.T) {
		f := filepath.Join(dir, "pkcs1.pem")
		if _, err := tryOpenSSL(nil, "genrsa", "-traditional", "-out", f, "2048"); err != nil {
			// OpenSSL 1.1 has no -traditional but writes PKCS#1 by default.
			openssl(t, nil, "genrsa", "-out", f, "2048")
		}
		checkLoadMatchesOpenSSL(t, f, "-----BEGIN RSA PRIVATE KEY-----")
	})

	t.Run("self-signed req", func(t *testing.T) {
		keyFile, certFile := filepath.Join(dir, "req.key"), filepath.Join(dir, "req.crt")
		openssl(t, nil, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
			"-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=x")
		certPEM, err := os.ReadFile(certFile)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePublic(certPEM)
		if err != nil {
			t.Fatal(err)
		}
		if p.Cert == nil || p.Cert.Subject.CommonName != "x" {
			t.Fatalf("certificate not parsed: %+v", p.Cert)
		}
		if na, ok := p.NotAfter(); !ok || na.Before(time.Now().Add(47*time.Hour)) || na.After(time.Now().Add(49*time.Hour)) {
			t.Errorf("NotAfter = %v, %v; want about 2 days from now", na, ok)
		}
		k, err := LoadPrivateKey(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := Match(k, p.Key); err != nil {
			t.Fatal(err)
		}
		if err := Match(testKey(), p.Key); !errors.Is(err, ErrMismatch) {
			t.Fatalf("Match(other key, cert) = %v, want ErrMismatch", err)
		}
	})
}

// checkLoadMatchesOpenSSL loads f and compares its public half with openssl's.
func checkLoadMatchesOpenSSL(t *testing.T, f, header string) {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(header)) {
		t.Fatalf("%s does not start with %s", f, header)
	}
	k, err := LoadPrivateKey(f)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := PublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if want := openssl(t, nil, "pkey", "-in", f, "-pubout"); !bytes.Equal(pubPEM, want) {
		t.Fatalf("public key differs from openssl's:\n%s\nwant\n%s", pubPEM, want)
	}
}

func TestOpenSSLBadKeys(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.pem")
	if err := WritePrivateKey(plain, testKey()); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		args []string
		want error
	}{
		{"PKCS#8 encrypted genpkey", []string{"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes256", "-pass", "pass:x"}, ErrEncrypted},
		{"PKCS#8 encrypted", []string{"pkey", "-in", plain, "-aes256", "-passout", "pass:x"}, ErrEncrypted},
		{"RSA 1024", []string{"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"}, ErrKeySize},
		{"EC PKCS#8", []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}, ErrNotRSA},
		{"EC SEC1 with parameters", []string{"ecparam", "-genkey", "-name", "prime256v1"}, ErrNotRSA},
		{"Ed25519", []string{"genpkey", "-algorithm", "ED25519"}, ErrNotRSA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := writeTemp(t, "key.pem", openssl(t, nil, tc.args...))
			_, err := LoadPrivateKey(f)
			if !errors.Is(err, tc.want) {
				t.Fatalf("LoadPrivateKey = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), f) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}

	t.Run("legacy encrypted", func(t *testing.T) {
		out, err := tryOpenSSL(nil, "rsa", "-in", plain, "-traditional", "-aes256", "-passout", "pass:x")
		if err != nil {
			t.Skipf("this openssl cannot write legacy encrypted PEM: %v", err)
		}
		if !bytes.Contains(out, []byte("Proc-Type: 4,ENCRYPTED")) {
			t.Fatalf("openssl output is not legacy encrypted PEM:\n%.80s", out)
		}
		if _, err := ParsePrivateKey(out); !errors.Is(err, ErrEncrypted) {
			t.Fatalf("ParsePrivateKey = %v, want ErrEncrypted", err)
		}
	})
}
