package steps

import (
	"context"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"rekey/tenant"
	"rekey/tfrunner"
)

// Options are what the operator chose for a rotation.
type Options struct {
	Client       string // name or id
	TerraformDir string // the folder whose HCL manages the client's credentials
	SystemConfig string // the consuming service's credential list; "" = show and confirm
	KeyDir       string // where new private keys go; "" = DefaultKeyDir()
	// The new key's shape; each part left unset (""/0/nil) is like the current key's (Shape).
	Alg         string   // RS256, RS384 or PS256
	Bits        int      // 2048, 3072 or 4096
	CertDays    *int     // >0: a self-signed certificate valid this many days; 0: a bare public key
	ExpiryDays  *int     // >0: an explicit expires_at this many days ahead; 0: none
	Audience    string   // for checks; "" = the client's first client grant
	VerifyCount int      // consecutive successful exchanges verify needs (default 3)
	AcceptOther []string // resources whose planned changes the operator accepts by name
	Repair      bool     // remove rekey's own leftover credentials through the Management API without asking
	Operator    string   // for the journal and audit log; "" = the OS user

	// AcceptWarnings names the preflight warnings (WarningNames) the operator accepts.
	AcceptWarnings []string

	// ManualEdit lets the operator make the HCL edits of a layout rekey cannot edit itself: rekey
	// says what to change, and applies only a plan that makes exactly that change.
	ManualEdit bool
	// Again rotates even when rekey put the client's key in place less than RerunWindow ago;
	// without it, such a rotation is a rerun that does nothing.
	Again bool
}

// Defaults: the new key's algorithm and size when the current key's cannot be read.
const (
	DefaultAlg         = "RS256"
	DefaultBits        = 3072
	DefaultVerifyCount = 3
	MaxDays            = 36500 // the longest certificate validity or expiry, in days
)

// withDefaults fills in defaults and validates; errors say what to change.
func (o Options) withDefaults() (Options, error) {
	if o.Client == "" {
		return o, optionsErrorf("no client given: name the client to rotate (its name or client id)")
	}
	if o.TerraformDir == "" {
		return o, optionsErrorf("no Terraform folder given: point --dir at the folder whose HCL manages the client's credentials")
	}
	abs, err := filepath.Abs(o.TerraformDir)
	if err != nil {
		return o, err
	}
	if info, err := os.Stat(abs); err != nil || !info.IsDir() {
		return o, optionsErrorf("Terraform folder %s does not exist or is not a folder", o.TerraformDir)
	}
	o.TerraformDir = abs
	if o.Alg != "" && !slices.Contains([]string{"RS256", "RS384", "PS256"}, o.Alg) {
		return o, optionsErrorf("algorithm %q: Auth0 accepts RS256, RS384 or PS256", o.Alg)
	}
	if o.Bits != 0 && o.Bits != 2048 && o.Bits != 3072 && o.Bits != 4096 {
		return o, optionsErrorf("key size %d: choose 2048, 3072 or 4096 bits", o.Bits)
	}
	if o.CertDays != nil && (*o.CertDays < 0 || *o.CertDays > MaxDays) {
		return o, optionsErrorf("certificate validity %d days: use 0 for no certificate, or 1 to %d days", *o.CertDays, MaxDays)
	}
	if o.ExpiryDays != nil && (*o.ExpiryDays < 0 || *o.ExpiryDays > MaxDays) {
		return o, optionsErrorf("expiry %d days: use 0 for no explicit expires_at, or 1 to %d days", *o.ExpiryDays, MaxDays)
	}
	if o.CertDays != nil && o.ExpiryDays != nil && *o.CertDays > 0 && *o.ExpiryDays > 0 {
		return o, optionsErrorf("a certificate's notAfter already sets the expiry: give either a certificate validity or an explicit expiry, not both")
	}
	if err := checkWarningNames(o.AcceptWarnings); err != nil {
		return o, err
	}
	if o.VerifyCount == 0 {
		o.VerifyCount = DefaultVerifyCount
	}
	if o.VerifyCount < 1 || o.VerifyCount > 100 {
		return o, optionsErrorf("verify count %d: choose 1 to 100 consecutive checks", o.VerifyCount)
	}
	if o.KeyDir == "" {
		if o.KeyDir, err = DefaultKeyDir(); err != nil {
			return o, err
		}
	}
	if o.KeyDir, err = checkKeyDir(o.KeyDir, o.TerraformDir); err != nil {
		return o, err
	}
	if o.Operator == "" {
		o.Operator = cmpOr(os.Getenv("USER"), "unknown")
	}
	return o, checkConfiguration(o.TerraformDir)
}

// checkConfiguration refuses a Terraform folder without a .tf or .tf.json file before rekey
// writes its .rekey folder there.
func checkConfiguration(dir string) error {
	tf, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	tfJSON, _ := filepath.Glob(filepath.Join(dir, "*.tf.json"))
	if len(tf)+len(tfJSON) == 0 {
		return optionsErrorf("folder %s holds no Terraform configuration (*.tf or *.tf.json files): point --dir at the folder whose HCL manages the client's credentials", dir)
	}
	return nil
}

// OptionsError is a rotation option the operator must change; nothing was done.
type OptionsError struct{ msg string }

func (e *OptionsError) Error() string { return e.msg }

func optionsErrorf(format string, args ...any) error {
	return &OptionsError{msg: fmt.Sprintf(format, args...)}
}

// DefaultKeyDir is the per-user folder for new private keys: $XDG_DATA_HOME/rekey/keys, or
// ~/.local/share/rekey/keys.
func DefaultKeyDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "rekey", "keys"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home folder for the default key folder: pass --key-dir")
	}
	return filepath.Join(home, ".local", "share", "rekey", "keys"), nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Tenant is what the engine needs from Auth0; *TenantAPI is the real one over package tenant.
type Tenant interface {
	Client(ctx context.Context, idOrName string) (tenant.Client, error)
	Grants(ctx context.Context, clientID string) ([]tenant.Grant, error)
	CheckKey(ctx context.Context, clientID string, key *rsa.PrivateKey, alg, audience string) tenant.CheckResult
}

// TenantAPI is the engine's Tenant over a real connection.
type TenantAPI struct {
	Conn   *tenant.Tenant
	Config tenant.Config
}

// Client implements Tenant.
func (t TenantAPI) Client(ctx context.Context, idOrName string) (tenant.Client, error) {
	return t.Conn.Client(ctx, idOrName)
}

// Grants implements Tenant.
func (t TenantAPI) Grants(ctx context.Context, clientID string) ([]tenant.Grant, error) {
	return t.Conn.Grants(ctx, clientID)
}

// CheckKey implements Tenant.
func (t TenantAPI) CheckKey(ctx context.Context, clientID string, key *rsa.PrivateKey, alg, audience string) tenant.CheckResult {
	return tenant.CheckKey(ctx, t.Config, clientID, key, alg, audience)
}

// UsageProbe tells when a client last authenticated with a key. Auth0 offers no such API, so a
// real tenant has none; the sandbox does, and the retire gate uses it to refuse retiring a key
// a service still signs with.
type UsageProbe interface {
	LastUsed(clientID, kid string) (time.Time, bool)
}

// Deps are the parts the engine works with.
type Deps struct {
	Tenant    Tenant
	Terraform tfrunner.Config // Dir is set from Options; Output is the engine's
	Prompter  Prompter
	Usage     UsageProbe       // optional
	Now       func() time.Time // default time.Now
	Events    chan<- Event     // optional; drained by the caller
}
