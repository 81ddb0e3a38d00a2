package steps

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rekey/keys"
	"rekey/tfrunner"
)

// Rebuilt says how a journal was rebuilt from the world after it was lost or damaged.
type Rebuilt struct {
	At       time.Time `json:"at"`
	Damaged  string    `json:"damaged,omitempty"` // where the damaged journal is kept; "" when it was missing
	Evidence []string  `json:"evidence"`          // what was found in the tenant, the key folder, the system config and Terraform
	Reading  string    `json:"reading"`           // what rekey concluded from it
}

// rebuild reconstructs the journal of a rotation in progress whose journal is missing (or
// damaged, and kept aside as damaged) from what the rotation left in the world: the tenant's
// attached keys, rekey's private key files in the key folder, the system config's order,
// and the blocks of the HCL and the credentials of the Terraform state. It returns nil when
// the world shows no rotation in progress, and refuses with ErrUnsafe, saying what it found,
// when the evidence does not tell which rotation it was.
func (e *engine) rebuild(ctx context.Context, damaged string) (*Journal, error) {
	w, r, err := e.readWorld(ctx)
	var guess *unclearError
	switch {
	case errors.As(err, &guess):
		return nil, e.refuseToGuess(w, guess, damaged)
	case err != nil:
		return nil, err
	case r == nil:
		if damaged != "" {
			e.emit(Event{Kind: Output, Text: "No rotation in progress shows in the tenant, the system config, the key folder or Terraform; a new rotation starts (the damaged journal stays as " + damaged + ")"})
		}
		return nil, nil
	}
	j, err := e.journalOf(ctx, w, r)
	if err != nil {
		return nil, err
	}
	j.Rebuilt = &Rebuilt{At: e.deps.Now().UTC(), Damaged: damaged, Evidence: w.describe(), Reading: r.why}
	if err := j.save(); err != nil {
		return nil, err
	}
	e.emit(Event{Kind: Output, Text: fmt.Sprintf("Rebuilt the rotation journal of %s from the world: %s.\n- %s", e.client.Name, r.why, strings.Join(j.Rebuilt.Evidence, "\n- "))})
	return j, nil
}

// readWorld observes the world and reads it; the reading is nil when the world shows no
// rotation in progress. Terraform is read only when the rest suggests a rotation.
func (e *engine) readWorld(ctx context.Context) (world, *reading, error) {
	w, err := e.observe()
	if err != nil || !w.suggestsRotation() {
		return w, nil, err
	}
	if err := e.observeTerraform(ctx, &w); err != nil {
		if len(w.attached) < tfrunner.MaxAttached {
			return w, nil, nil // no rotation can be told without Terraform; preflight reports what it said
		}
		return w, nil, fmt.Errorf("reading the Terraform folder to rebuild %s's rotation journal: %w", e.client.Name, err)
	}
	r, err := w.read()
	return w, r, err
}

// refuseToGuess is the rebuild's refusal: what was found, why it does not tell, and what the
// operator can do.
func (e *engine) refuseToGuess(w world, guess *unclearError, damaged string) error {
	lost := "is missing"
	if damaged != "" {
		lost = "was damaged (kept as " + damaged + ")"
	}
	return fmt.Errorf("%w: %s's rotation journal %s, and what rekey finds does not tell which rotation was in progress, so it changes nothing: %s.\nFound:\n- %s\n"+
		"What you can do: if rekey generated one of these keys, run rekey rotate (to finish) or rekey rotate --abort (to undo) again with the --key-dir it wrote the key to (rekey names it %s-<kid>.pem); "+
		"otherwise retire one key by hand — keep the key you want in the HCL and the system config, remove the other, terraform apply — and run rekey again once one key is attached",
		ErrUnsafe, e.client.Name, lost, guess.why, strings.Join(w.describe(), "\n- "), safeFileName(e.client.Name))
}

// journalOf writes down the reading as a journal in progress: the steps up to r.done are done;
// verify, which proves the new key in this rotation, is done only once the old key is retired.
func (e *engine) journalOf(ctx context.Context, w world, r *reading) (*Journal, error) {
	now := e.deps.Now().UTC()
	j := &Journal{
		ClientID: e.client.ID, ClientName: e.client.Name, Status: StatusInProgress, StartedAt: fileTime(w.keyFiles[r.new], now),
		Operator: e.opts.Operator, Steps: map[string]StepLog{}, path: journalPath(e.opts.TerraformDir, e.client.ID),
		Resource: w.res.Address, ClientRef: w.res.ClientRef, RetireApplying: r.done == Retire,
	}
	var err error
	if j.Audience, err = e.audience(ctx); err != nil {
		return nil, err
	}
	j.Old = e.rebuiltKey(w, r.old)
	if j.Old.PrivateKeyFile, err = e.knownKeyFile(r.old); err != nil {
		e.emit(Event{Kind: Output, Text: fmt.Sprintf("The old key's private key cannot be used (%v); its live checks are skipped", err)})
	}
	shape := Shape(e.opts, e.oldKeyOf(w, r.old))
	j.Shape = &shape
	j.New = e.rebuiltKey(w, r.new)
	j.New.PrivateKeyFile = w.keyFiles[r.new]
	if err := e.rebuiltPublic(w, j.New, shape); err != nil {
		return nil, err
	}
	for _, s := range AllSteps[:r.done+1] {
		j.Steps[s.String()] = StepLog{Status: "done", FinishedAt: now, Detail: "rebuilt: " + r.why}
	}
	return j, nil
}

// rebuiltKey describes kid from the tenant, the system config and its HCL block.
func (e *engine) rebuiltKey(w world, kid string) *JournalKey {
	k := &JournalKey{KID: kid}
	if c, ok := w.credential(kid); ok {
		k.Alg, k.Name, k.ExpiresAt = c.Alg, c.Name, c.ExpiresAt
	}
	if en, ok := w.entry(kid); ok && k.Alg == "" {
		k.Alg = en.Alg
	}
	if b, ok := w.declared[kid]; ok {
		k.Name = b.Name
		if b.Algorithm != "" {
			k.Alg = b.Algorithm
		}
	}
	return k
}

// oldKeyOf is what the rotation knows of its old key, for the new key's shape.
func (e *engine) oldKeyOf(w world, kid string) CurrentKey {
	cred, _ := w.credential(kid)
	if b, ok := w.declared[kid]; ok {
		return ReadCurrentKey(e.opts.TerraformDir, cred, b)
	}
	return CurrentKey{Credential: cred}
}

// rebuiltPublic gives the new key its public part: the PEM of its HCL block when the HCL
// declares it (with its explicit expiry), else one made from its private key in the
// rotation's shape, as generate makes it.
func (e *engine) rebuiltPublic(w world, k *JournalKey, shape KeyShape) error {
	b, ok := w.declared[k.KID]
	if !ok {
		key, err := keys.LoadPrivateKey(k.PrivateKeyFile)
		if err != nil {
			return err
		}
		if k.Name == "" {
			k.Name = newKeyName(e.client.Name, e.deps.Now(), k.KID)
		}
		return e.publicPart(k, key, shape)
	}
	pem, err := blockPEM(e.opts.TerraformDir, b)
	if err != nil {
		return err
	}
	k.PublicPEM = pem
	if b.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, b.ExpiresAt)
		if err != nil {
			return fmt.Errorf("the new key's block sets expires_at %q, which is not a time: %w", b.ExpiresAt, err)
		}
		k.ExpiresAt, k.ExplicitExpiry = &t, true
	}
	return nil
}

// blockPEM is the PEM text of a credentials block: literal, or the file() it names relative
// to the Terraform folder dir.
func blockPEM(dir string, b tfrunner.CredentialBlock) (string, error) {
	if !b.PEMIsFile {
		return b.PEM, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, b.PEM))
	return string(data), err
}

// newKeyName is the name of a new key's credentials block.
func newKeyName(client string, at time.Time, kid string) string {
	return fmt.Sprintf("%s %s %s", client, at.UTC().Format("2006-01-02"), kid[:8])
}

// publicPart sets the public part of the new key k from its private key, in the rotation's
// shape: a self-signed certificate (its notAfter the expiry) or a bare public key, and an
// explicit expiry when the shape has one.
func (e *engine) publicPart(k *JournalKey, key *rsa.PrivateKey, shape KeyShape) error {
	now := e.deps.Now()
	pem, err := keys.PublicPEM(&key.PublicKey)
	if shape.CertDays > 0 {
		notAfter := now.AddDate(0, 0, shape.CertDays).UTC().Truncate(time.Second)
		pem, err = keys.SelfSignedCert(key, e.client.Name, now.Add(-time.Minute), notAfter)
		k.ExpiresAt = &notAfter
	}
	if shape.ExpiryDays > 0 {
		expires := now.AddDate(0, 0, shape.ExpiryDays).UTC().Truncate(time.Second)
		k.ExpiresAt, k.ExplicitExpiry = &expires, true
	}
	k.PublicPEM = string(pem)
	return err
}

// fileTime is when a file was last written, or def when that cannot be told.
func fileTime(path string, def time.Time) time.Time {
	if info, err := os.Stat(path); err == nil {
		return info.ModTime().UTC()
	}
	return def
}
