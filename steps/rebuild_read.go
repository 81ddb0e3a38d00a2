package steps

import (
	"fmt"
	"slices"

	"rekey/tenant"
)

// reading is what the world says of a rotation in progress: its old and new key, and the last
// step the world shows done (Stage, Attach or Retire). Steps after it are redone; each checks
// the real state first, so redoing one that was half done is safe.
type reading struct {
	old, new string
	done     Step
	why      string // the conclusion, in words, for the journal and the operator
}

// unclearError is a world that does not tell which rotation was in progress: rekey refuses to
// guess, since a wrong guess could remove the wrong key.
type unclearError struct{ why string }

func (e *unclearError) Error() string { return e.why }

func unclear(format string, args ...any) error {
	return &unclearError{why: fmt.Sprintf(format, args...)}
}

// read interprets the world: nil when it shows no rotation in progress, an *unclearError when
// the evidence does not tell. rekey's new key is recognised by its private key file in the
// key folder; the other attached key, or the system config's entry next to it, is the old
// one. Every other piece of evidence must agree.
func (w world) read() (*reading, error) {
	switch len(w.attached) {
	case 0:
		return nil, nil
	case 1:
		return w.readOneAttached(w.attached[0])
	case 2:
		return w.readTwoAttached(w.attached[0], w.attached[1])
	}
	return nil, unclear("%d keys are attached, more than a rotation ever attaches", len(w.attached))
}

// readTwoAttached reads a rotation that attached its new key (or was attaching it): the new
// key stays attached next to the old one until retire.
func (w world) readTwoAttached(a, b tenant.Credential) (*reading, error) {
	n, o, err := w.newOfTwo(a, b)
	if err != nil {
		return nil, err
	}
	if err := w.checkListed(o.KID, n.KID); err != nil {
		return nil, err
	}
	if err := w.checkDeclared(o.KID, n.KID); err != nil {
		return nil, err
	}
	r := &reading{old: o.KID, new: n.KID, done: Stage,
		why: fmt.Sprintf("%s is rekey's new key, attached next to the old key %s; the rotation resumes at attach, which finds its change made or makes it", n.KID, o.KID)}
	if _, declared := w.declared[n.KID]; declared && slices.Contains(w.applied, n.ID) {
		r.done = Attach
		r.why = fmt.Sprintf("%s is rekey's new key, attached next to the old key %s, declared in the HCL and recorded in the Terraform state: the rotation had attached it", n.KID, o.KID)
	}
	return r, nil
}

// newOfTwo tells rekey's new key from the old one among two attached keys: the one with
// rekey's private key file; when both have one, the one the last finished rotation did not
// put in place, else the one the tenant created later.
func (w world) newOfTwo(a, b tenant.Credential) (n, o tenant.Credential, err error) {
	fileA, fileB := w.keyFiles[a.KID] != "", w.keyFiles[b.KID] != ""
	switch {
	case fileA && fileB && w.lastNew == b.KID, fileA && fileB && w.lastNew != a.KID && later(a, b), fileA && !fileB:
		n, o = a, b
	case fileA && fileB && w.lastNew == a.KID, fileA && fileB && later(b, a), fileB && !fileA:
		n, o = b, a
	case fileA && fileB:
		return n, o, unclear("both attached keys have rekey's private key files, and neither the archived rotations nor the tenant's creation times tell which one is new")
	default:
		return n, o, unclear("%s has 2 credentials attached, the most Auth0 allows, so a rotation needs a free slot; neither has a private key file of rekey's in the key folder, so nothing shows that a rekey rotation attached one of them", w.client)
	}
	if later(o, n) || w.lastNew == n.KID {
		return n, o, unclear("%s has rekey's private key file, but it is older than %s (the tenant created it before, or the last finished rotation put it in place)", n.KID, o.KID)
	}
	return n, o, nil
}

// later reports whether the tenant created x after y (both times known).
func later(x, y tenant.Credential) bool {
	return !x.CreatedAt.IsZero() && !y.CreatedAt.IsZero() && x.CreatedAt.After(y.CreatedAt)
}

// readOneAttached reads a rotation that had not attached its new key yet (staged: the new key
// is in the system config or the HCL, not in the tenant) or had retired its old one (the old
// key is still listed after the new one, which confirm removes).
func (w world) readOneAttached(x tenant.Credential) (*reading, error) {
	staged := w.stagedNext(x.KID)
	retired := w.retiredBefore(x.KID)
	switch {
	case len(staged) > 1:
		return nil, unclear("several keys of rekey's could be the new key waiting next to %s: %v", x.KID, staged)
	case len(staged) == 1 && retired != "" && w.lastNew == retired:
		return &reading{old: retired, new: x.KID, done: Retire,
			why: fmt.Sprintf("%s is rekey's new key, attached alone; %s, which the last finished rotation put in place, is retired but still listed after it: the rotation resumes at confirm", x.KID, retired)}, nil
	case len(staged) == 1 && retired != "":
		return nil, unclear("the system config lists %s then %s, and both have rekey's private key files: either a rotation to %s stopped before attach, or a rotation to %s stopped after retire",
			x.KID, retired, retired, x.KID)
	case len(staged) == 1:
		if err := w.checkDeclared(x.KID, staged[0]); err != nil {
			return nil, err
		}
		if _, ok := w.declared[x.KID]; !ok {
			return nil, unclear("the HCL does not declare the attached key %s", x.KID)
		}
		return &reading{old: x.KID, new: staged[0], done: Stage,
			why: fmt.Sprintf("%s is rekey's new key, staged but not attached; %s is the attached old key: the rotation resumes at attach", staged[0], x.KID)}, nil
	case retired != "":
		return &reading{old: retired, new: x.KID, done: Retire,
			why: fmt.Sprintf("%s is rekey's new key, attached alone and declared alone; the system config still lists the retired key %s after it: the rotation resumes at confirm", x.KID, retired)}, nil
	}
	return nil, nil
}

// stagedNext lists the keys of rekey's that are not attached but staged next to the attached
// key current: in the system config where stage (or promote) puts them or, with no system
// config, declared in the HCL.
func (w world) stagedNext(current string) []string {
	var out []string
	for kid := range w.keyFiles {
		if kid == current || w.isAttached(kid) {
			continue
		}
		_, declared := w.declared[kid]
		if (w.listed != nil && w.checkListed(current, kid) == nil) || (w.listed == nil && declared) {
			out = append(out, kid)
		}
	}
	slices.Sort(out)
	return out
}

// retiredBefore is the key a rotation to current retired, when the world shows one that
// stopped before confirm: current has rekey's private key file and is the only key the HCL
// declares, first in the system config, and the next entry is a key no longer attached. ""
// when there is none, or the last finished rotation put current in place already.
func (w world) retiredBefore(current string) string {
	if len(w.listed) < 2 || w.listed[0].KID != current || w.keyFiles[current] == "" || w.lastNew == current {
		return ""
	}
	if _, ok := w.declared[current]; !ok || len(w.declared) != 1 {
		return ""
	}
	if old := w.listed[1].KID; !w.isAttached(old) {
		return old
	}
	return ""
}

// checkListed checks that the system config (if any) lists the new key where stage puts it
// (second, after the old key or whatever came first) or where promote puts it (first, the old
// key second).
func (w world) checkListed(old, new string) error {
	if w.listed == nil {
		return nil
	}
	pn, po := w.position(new), w.position(old)
	staged := pn == 1 && po <= 0
	promoted := pn == 0 && (po == 1 || po == -1)
	if staged || promoted {
		return nil
	}
	return unclear("the system config lists %s %s and %s %s: not where stage or promote puts a new key and its old one", new, w.place(pn), old, w.place(po))
}

// place says where an index of the system config is, in words.
func (w world) place(i int) string {
	switch i {
	case -1:
		return "nowhere"
	case 0:
		return "first"
	}
	return fmt.Sprintf("in place %d of %d", i+1, len(w.listed))
}

// checkDeclared checks that the HCL declares no key but the rotation's two, and at least one.
func (w world) checkDeclared(old, new string) error {
	if len(w.declared) == 0 {
		return unclear("the HCL declares no key of the client")
	}
	for kid := range w.declared {
		if kid != old && kid != new {
			return unclear("the HCL declares a key that is neither %s nor %s: %q (\"\" is a block whose PEM rekey cannot read)", old, new, kid)
		}
	}
	return nil
}
