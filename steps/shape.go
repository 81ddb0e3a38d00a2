package steps

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"rekey/keys"
	"rekey/tenant"
	"rekey/tfrunner"
)

// CurrentKey is what rekey knows of the credential a rotation replaces: the tenant's record
// and the HCL block that declares it.
type CurrentKey struct {
	Credential tenant.Credential
	Block      tfrunner.CredentialBlock
	Public     keys.PublicKey // from the block's PEM; Key is nil when it could not be read
}

// ReadCurrentKey reads the public key of block (a literal PEM, or a file() relative to the
// Terraform folder dir) for cred.
func ReadCurrentKey(dir string, cred tenant.Credential, block tfrunner.CredentialBlock) CurrentKey {
	cur := CurrentKey{Credential: cred, Block: block}
	text := []byte(block.PEM)
	if block.PEMIsFile {
		data, err := os.ReadFile(filepath.Join(dir, block.PEM))
		if err != nil {
			return cur
		}
		text = data
	}
	cur.Public, _ = keys.ParsePublic(text)
	return cur
}

// KeyShape is what the new key is made like. By default it copies the current key, so that a
// rotation never silently loses expiry tracking; the operator's options override each part.
type KeyShape struct {
	Alg        string `json:"alg"`
	Bits       int    `json:"bits"`
	CertDays   int    `json:"cert_days,omitempty"`   // >0: a self-signed certificate valid this long; its notAfter is the expiry
	ExpiryDays int    `json:"expiry_days,omitempty"` // >0: an explicit expires_at this many days after generation
	// ParseExpiryFromCert is the new block's parse_expiry_from_cert; nil leaves it out.
	ParseExpiryFromCert *bool `json:"parse_expiry_from_cert,omitempty"`
	// From says where each choice came from ("like the current key", "chosen", "default"), by
	// part: alg, bits, cert, expiry.
	From map[string]string `json:"from"`
}

// Where a shape's choices come from.
const (
	fromCurrent = "like the current key"
	fromChosen  = "chosen"
	fromDefault = "default"
)

// defaultExpiryDays is the explicit expiry given when the current key has one but its length
// cannot be told (no creation time).
const defaultExpiryDays = 365

// Shape resolves the new key's shape: each part the options leave unset copies cur.
func Shape(opts Options, cur CurrentKey) KeyShape {
	s := KeyShape{From: map[string]string{}}
	s.Alg, s.From["alg"] = choose(opts.Alg, cur.Credential.Alg, DefaultAlg)
	s.Bits, s.From["bits"] = choose(opts.Bits, currentBits(cur), DefaultBits)
	known := cur.Public.Key != nil
	s.CertDays, s.From["cert"] = choosePtr(opts.CertDays, currentCertDays(cur), known)
	s.ExpiryDays, s.From["expiry"] = choosePtr(opts.ExpiryDays, currentExpiryDays(cur), known)
	switch {
	case s.CertDays > 0 && s.ExpiryDays == 0:
		// Auth0 takes the expiry from the certificate unless the old block opted out of it.
		parse := cur.Block.ParseExpiryFromCert == nil || *cur.Block.ParseExpiryFromCert || cur.Public.Cert == nil
		s.ParseExpiryFromCert = &parse
	case cur.Block.ParseExpiryFromCert != nil:
		// An explicit expiry, or a bare key: Auth0 refuses both with parse_expiry_from_cert =
		// true, and the current block spells the attribute out, so the new one does too.
		s.ParseExpiryFromCert = new(bool)
	}
	return s
}

// choose is the operator's value when set, else the current key's when known, else def.
func choose[T comparable](chosen, current, def T) (T, string) {
	var zero T
	switch {
	case chosen != zero:
		return chosen, fromChosen
	case current != zero:
		return current, fromCurrent
	}
	return def, fromDefault
}

// choosePtr is the operator's value when set (0 = none), else the current key's when known,
// else 0.
func choosePtr(chosen *int, current int, known bool) (int, string) {
	switch {
	case chosen != nil:
		return *chosen, fromChosen
	case known:
		return current, fromCurrent
	}
	return 0, fromDefault
}

// currentBits is the current key's modulus size when it is one rekey can generate, else 0.
func currentBits(cur CurrentKey) int {
	if cur.Public.Key == nil {
		return 0
	}
	switch bits := cur.Public.Key.N.BitLen(); bits {
	case 2048, 3072, 4096:
		return bits
	}
	return 0
}

// currentCertDays is the current certificate's validity in whole days, or 0 for a bare key.
func currentCertDays(cur CurrentKey) int {
	c := cur.Public.Cert
	if c == nil {
		return 0
	}
	return max(1, roundDays(c.NotAfter.Sub(c.NotBefore)))
}

// currentExpiryDays is the length of the current key's explicit expires_at (from its creation
// to its expiry, in whole days), or 0 when its block sets none.
func currentExpiryDays(cur CurrentKey) int {
	if cur.Block.ExpiresAt == "" {
		return 0
	}
	c := cur.Credential
	if c.ExpiresAt == nil || c.CreatedAt.IsZero() || !c.ExpiresAt.After(c.CreatedAt) {
		return defaultExpiryDays
	}
	return max(1, roundDays(c.ExpiresAt.Sub(c.CreatedAt)))
}

func roundDays(d time.Duration) int { return int(math.Round(d.Hours() / 24)) }

// Describe lists the shape's parts, each with where it came from, for the operator.
func (s KeyShape) Describe() []string {
	cert := "a bare public key (no certificate)"
	if s.CertDays > 0 {
		cert = fmt.Sprintf("a self-signed certificate valid %d days", s.CertDays)
		if s.ParseExpiryFromCert != nil && *s.ParseExpiryFromCert {
			cert += " (its notAfter becomes the expiry)"
		}
	}
	expiry := "no explicit expires_at"
	if s.ExpiryDays > 0 {
		expiry = fmt.Sprintf("expires_at %d days after generation", s.ExpiryDays)
	}
	return []string{
		fmt.Sprintf("algorithm %s (%s)", s.Alg, s.From["alg"]),
		fmt.Sprintf("%d-bit RSA (%s)", s.Bits, s.From["bits"]),
		fmt.Sprintf("%s (%s)", cert, s.From["cert"]),
		fmt.Sprintf("%s (%s)", expiry, s.From["expiry"]),
	}
}

// ProviderTime formats t as the auth0 provider writes expires_at: RFC 3339 with
// milliseconds, in UTC. The provider compares these strings, so any other form gives a
// plan diff that never goes away.
func ProviderTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
