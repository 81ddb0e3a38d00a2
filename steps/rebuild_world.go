package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"rekey/sysconfig"
	"rekey/tenant"
	"rekey/tfrunner"
)

// world is what rekey finds of a client's rotation outside its journal: the truth a lost or
// damaged journal is rebuilt from.
type world struct {
	client   string
	pool     []tenant.Credential // the client's credentials in the tenant
	attached []tenant.Credential // those attached to private_key_jwt
	listed   []sysconfig.Entry   // the system config's entries, in order; nil without one
	sysPath  string              // the system config, "" without one
	keyDir   string
	keyFiles map[string]string // kid → rekey's private key file of it in the key folder
	lastNew  string            // the new key of the client's last finished rotation; "" when none
	// From Terraform, read only when the rest suggests a rotation:
	res      *tfrunner.CredentialsResource
	declared map[string]tfrunner.CredentialBlock // kid → the HCL block that declares it
	applied  []string                            // credential ids the state records for res
}

// observe reads the tenant's view (from the lookup that started this run), the system config,
// the key folder and the archived journals.
func (e *engine) observe() (world, error) {
	w := world{client: e.client.Name, pool: e.client.Credentials, attached: e.client.Attached(), keyDir: e.opts.KeyDir, keyFiles: e.rekeyKeyFiles()}
	if e.sys != nil {
		w.listed, w.sysPath = e.sys.Entries(), e.sys.Path()
	}
	done, err := finishedJournals(e.opts.TerraformDir, e.client.ID)
	if err != nil {
		return w, err
	}
	if last := lastRotated(done); last != nil {
		w.lastNew = last.New.KID
	}
	return w, nil
}

// observeTerraform reads the client's credentials resource: the blocks its HCL declares, and
// the credentials its state records.
func (e *engine) observeTerraform(ctx context.Context, w *world) error {
	state, err := e.runner.State(ctx)
	if err != nil {
		return err
	}
	e.state = state
	if _, w.res, err = e.workspace(ctx); err != nil {
		return err
	}
	w.declared = map[string]tfrunner.CredentialBlock{}
	for _, b := range w.res.Credentials {
		w.declared[blockKID(e.opts.TerraformDir, b)] = b
	}
	w.applied = tfrunner.StateCredentialIDs(state, w.res.Address)
	return nil
}

// suggestsRotation reports whether the world may hold a rotation in progress: two keys
// attached, or a key of rekey's or of the system config that is not attached.
func (w world) suggestsRotation() bool {
	if len(w.attached) >= tfrunner.MaxAttached {
		return true
	}
	for kid := range w.keyFiles {
		if !w.isAttached(kid) {
			return true
		}
	}
	return slices.ContainsFunc(w.listed, func(en sysconfig.Entry) bool { return !w.isAttached(en.KID) })
}

func (w world) isAttached(kid string) bool {
	return slices.ContainsFunc(w.attached, func(c tenant.Credential) bool { return c.KID == kid })
}

// credential is the tenant's credential of kid, if the pool has it.
func (w world) credential(kid string) (tenant.Credential, bool) {
	i := slices.IndexFunc(w.pool, func(c tenant.Credential) bool { return c.KID == kid })
	if i < 0 {
		return tenant.Credential{}, false
	}
	return w.pool[i], true
}

// position is kid's index in the system config, or -1.
func (w world) position(kid string) int {
	return slices.IndexFunc(w.listed, func(en sysconfig.Entry) bool { return en.KID == kid })
}

// entry is the system config's entry of kid, if it lists it.
func (w world) entry(kid string) (sysconfig.Entry, bool) {
	if i := w.position(kid); i >= 0 {
		return w.listed[i], true
	}
	return sysconfig.Entry{}, false
}

// describe lists what was found, for the rebuilt journal and for a refusal.
func (w world) describe() []string {
	var attached []string
	for _, c := range w.attached {
		attached = append(attached, fmt.Sprintf("%s (created %s)", c.KID, c.CreatedAt.UTC().Format(time.RFC3339)))
	}
	lines := []string{fmt.Sprintf("tenant: %s has %d key(s) attached: %s", w.client, len(w.attached), strings.Join(attached, ", "))}
	files := slices.Sorted(maps.Values(w.keyFiles))
	lines = append(lines, fmt.Sprintf("key folder %s: rekey's private key files for %s: %s", w.keyDir, w.client, listOr(files, "none")))
	if w.sysPath != "" {
		lines = append(lines, fmt.Sprintf("system config %s lists, in order: %s", w.sysPath, listOr(kidsOfEntries(w.listed), "nothing")))
	} else {
		lines = append(lines, "system config: none given (kept by hand)")
	}
	if w.res != nil {
		lines = append(lines, fmt.Sprintf("HCL: %s declares %s; its Terraform state records %d credential(s): %s",
			w.res.Address, listOr(slices.Sorted(maps.Keys(w.declared)), "no key"), len(w.applied), listOr(w.appliedKIDs(), "none")))
	}
	if w.lastNew != "" {
		lines = append(lines, "the client's last finished rotation (in .rekey/done) put "+w.lastNew+" in place")
	}
	return lines
}

// appliedKIDs are the kids of the credentials the state records.
func (w world) appliedKIDs() []string {
	var out []string
	for _, c := range w.pool {
		if slices.Contains(w.applied, c.ID) {
			out = append(out, c.KID)
		}
	}
	return out
}

func kidsOfEntries(entries []sysconfig.Entry) []string {
	var out []string
	for _, en := range entries {
		out = append(out, en.KID)
	}
	return out
}

func listOr(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}
