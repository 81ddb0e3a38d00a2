package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"rekey/internal/atomicfile"
)

// Rotation statuses.
const (
	StatusInProgress = "in_progress"
	StatusRotated    = "rotated"
	StatusAborted    = "aborted"
	StatusFailed     = "failed"
	// StatusDeclined is a result's, never a journal's: a gate was answered no (or a warning was
	// not accepted); nothing after it was done, and a rotation in progress resumes from there.
	StatusDeclined = "declined"
)

// Journal is the record of one client's rotation, saved after every step in the Terraform
// folder's .rekey/ so that an interrupted rotation resumes where it stopped. It holds no
// secret: key files are named, never read into it.
type Journal struct {
	ClientID   string             `json:"client_id"`
	ClientName string             `json:"client_name"`
	Status     string             `json:"status"`
	StartedAt  time.Time          `json:"started_at"`
	Operator   string             `json:"operator"`
	Resource   string             `json:"resource"`      // the auth0_client_credentials address
	ClientRef  string             `json:"client_ref"`    // its auth0_client address, if any
	Audience   string             `json:"audience"`      // for token-exchange checks
	Old        *JournalKey        `json:"old,omitempty"` // the credential being retired
	New        *JournalKey        `json:"new,omitempty"` // the credential being added
	Steps      map[string]StepLog `json:"steps"`         // by step name
	Verified   bool               `json:"verified"`      // step verify passed in this rotation
	PromotedAt *time.Time         `json:"promoted_at,omitempty"`
	Shape      *KeyShape          `json:"shape,omitempty"`    // what the new key is made like, chosen in preflight
	Accepted   []string           `json:"accepted,omitempty"` // warnings and resources the operator accepted
	Repairs    []string           `json:"repairs,omitempty"`  // leftover credentials rekey removed through the Management API
	// ManualEdit, when set, says why rekey cannot edit this layout: the operator makes each HCL
	// edit (Options.ManualEdit), and the plan proves it.
	ManualEdit *ManualEdit `json:"manual_edit,omitempty"`
	// RetireApplying is set just before retire's apply: from then on the old key may be gone,
	// so the rotation can only go forward.
	RetireApplying bool              `json:"retire_applying,omitempty"`
	PlanDigests    map[string]string `json:"plan_digests,omitempty"` // sha256 of each applied plan, by step
	Checks         []AuditCheck      `json:"checks,omitempty"`       // every live check of the rotation
	// FinishedAt is when the rotation ended (rotated or aborted), set when it is archived.
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// AuditError says why the audit record of the rotation's end could not be written; the next
	// run of rekey for the client writes it from this journal.
	AuditError string   `json:"audit_error,omitempty"`
	Rebuilt    *Rebuilt `json:"rebuilt,omitempty"` // how the journal was rebuilt after it was lost or damaged

	path string
}

// JournalKey describes a credential of the rotation.
type JournalKey struct {
	KID            string     `json:"kid"`
	Alg            string     `json:"alg"`
	Name           string     `json:"name,omitempty"`
	PrivateKeyFile string     `json:"private_key_file,omitempty"` // where the key is; "" when unknown
	PublicPEM      string     `json:"public_pem,omitempty"`       // public key or certificate (not secret)
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
	// ExplicitExpiry: ExpiresAt is written into the HCL as expires_at (not from a certificate).
	ExplicitExpiry bool `json:"explicit_expiry,omitempty"`
}

// StepLog is the outcome of one step.
type StepLog struct {
	Status     string    `json:"status"` // "done" or "failed"
	FinishedAt time.Time `json:"finished_at"`
	Detail     string    `json:"detail,omitempty"`
}

// journalDir is the folder, inside the Terraform folder, for journals and the audit log.
const journalDir = ".rekey"

func journalPath(tfDir, clientID string) string {
	return filepath.Join(tfDir, journalDir, clientID+".json")
}

// LoadJournal reads the journal of a client's rotation; nil when there is none. A journal that
// cannot be read back (e.g. cut short by a crash) is a *DamagedJournalError.
func LoadJournal(tfDir, clientID string) (*Journal, error) {
	j, err := readJournal(journalPath(tfDir, clientID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err == nil && j.ClientID != clientID {
		err = &DamagedJournalError{Path: j.path, Reason: fmt.Sprintf("it names client %q", j.ClientID)}
	}
	return j, err
}

// readJournal reads and checks one journal file.
func readJournal(path string) (*Journal, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, &DamagedJournalError{Path: path, Reason: err.Error()}
	}
	if j.Steps == nil || !slices.Contains([]string{StatusInProgress, StatusRotated, StatusAborted}, j.Status) {
		return nil, &DamagedJournalError{Path: path, Reason: "it has no steps or no known status"}
	}
	j.path = path
	return &j, nil
}

// DamagedJournalError is a journal that cannot be read back. A rotation keeps the file aside
// and rebuilds the journal from the tenant, Terraform, the system config and the key folder.
type DamagedJournalError struct {
	Path   string
	Reason string
}

// Error says which journal is damaged, and what a rotation does about it.
func (e *DamagedJournalError) Error() string {
	return fmt.Sprintf("the rotation journal %s is damaged (%s); rekey rotate keeps it aside and rebuilds the rotation from the tenant, Terraform, the system config and the key folder", e.Path, e.Reason)
}

// setAside renames a damaged journal so that it is kept but no longer read; it returns the
// new name.
func setAside(path string, now time.Time) (string, error) {
	dest := strings.TrimSuffix(path, ".json") + ".damaged-" + fileStamp(now) + ".json"
	return dest, os.Rename(path, dest)
}

// fileStamp is a time as journal file names spell it; names sort in time order.
func fileStamp(t time.Time) string { return t.UTC().Format("20060102T150405.000000000Z") }

// discard removes the journal of a rotation that changed nothing.
func (j *Journal) discard() error {
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Done reports whether step s finished in this rotation.
func (j *Journal) Done(s Step) bool { return j.Steps[s.String()].Status == "done" }

// record marks a step's outcome and saves the journal.
func (j *Journal) record(s Step, status, detail string, now time.Time) error {
	j.Steps[s.String()] = StepLog{Status: status, FinishedAt: now.UTC(), Detail: detail}
	return j.save()
}

// save writes the journal atomically.
func (j *Journal) save() error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(j.path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(j.path, append(data, '\n'), 0o600)
}

// archive records when a finished rotation ended and moves its journal to .rekey/done/, so
// the next rotation of the client starts afresh and the record is kept.
func (j *Journal) archive(now time.Time) error {
	finished := now.UTC()
	j.FinishedAt = &finished
	if err := j.save(); err != nil {
		return err
	}
	dest := filepath.Join(doneDir(filepath.Dir(filepath.Dir(j.path))), fmt.Sprintf("%s-%s.json", j.ClientID, fileStamp(now)))
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return err
	}
	if err := os.Rename(j.path, dest); err != nil {
		return err
	}
	j.path = dest
	return nil
}

// doneDir is the folder of finished rotations' journals.
func doneDir(tfDir string) string { return filepath.Join(tfDir, journalDir, "done") }

// finishedJournals reads the archived journals of a client's finished rotations, oldest
// first. A file that cannot be read back is passed over: it is a record, kept as it is.
func finishedJournals(tfDir, clientID string) ([]*Journal, error) {
	files, err := filepath.Glob(filepath.Join(doneDir(tfDir), clientID+"-*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Journal
	for _, f := range files {
		if j, err := readJournal(f); err == nil && j.ClientID == clientID {
			out = append(out, j)
		}
	}
	return out, nil
}

// finished reports whether the rotation ended, rotated or aborted.
func (j *Journal) finished() bool { return j.Status == StatusRotated || j.Status == StatusAborted }

// finishedAt is when a finished rotation ended; journals archived before FinishedAt was
// recorded give the time of their last step.
func (j *Journal) finishedAt() time.Time {
	if j.FinishedAt != nil {
		return *j.FinishedAt
	}
	var last time.Time
	for _, s := range j.Steps {
		if s.FinishedAt.After(last) {
			last = s.FinishedAt
		}
	}
	return last
}

// ErrBusy means another rekey process is rotating the same client.
var ErrBusy = errors.New("another rekey is rotating this client")

// lockClient takes an exclusive, non-blocking lock on the client's rotation; the lock ends
// with the process, so a crashed run never blocks a resume.
func lockClient(tfDir, clientID string) (func(), error) {
	dir := filepath.Join(tfDir, journalDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, clientID+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (lock %s); wait for it to finish, then run rekey again to see its result", ErrBusy, f.Name())
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
