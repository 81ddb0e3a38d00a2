package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	// RetireApplying is set just before retire's apply: from then on the old key may be gone,
	// so the rotation can only go forward.
	RetireApplying bool              `json:"retire_applying,omitempty"`
	PlanDigests    map[string]string `json:"plan_digests,omitempty"` // sha256 of each applied plan, by step
	Checks         []AuditCheck      `json:"checks,omitempty"`       // every live check of the rotation

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

// LoadJournal reads the journal of a client's rotation; nil when there is none.
func LoadJournal(tfDir, clientID string) (*Journal, error) {
	path := journalPath(tfDir, clientID)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("the rotation journal %s is damaged (%v); move it aside to start a new rotation", path, err)
	}
	j.path = path
	return &j, nil
}

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

// archive moves a finished rotation's journal to .rekey/done/, so the next rotation of the
// client starts afresh and the record is kept.
func (j *Journal) archive(now time.Time) error {
	dest := filepath.Join(filepath.Dir(j.path), "done", fmt.Sprintf("%s-%s.json", j.ClientID, now.UTC().Format("20060102T150405.000000000Z")))
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return err
	}
	if err := os.Rename(j.path, dest); err != nil {
		return err
	}
	j.path = dest
	return nil
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
