package steps

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// AuditRecord is one line of the append-only audit log, .rekey/audit.jsonl in the Terraform
// folder: what a rotation did, never a secret.
type AuditRecord struct {
	Time        time.Time         `json:"time"`
	Operator    string            `json:"operator"`
	ClientID    string            `json:"client_id"`
	ClientName  string            `json:"client_name"`
	OldKID      string            `json:"old_kid,omitempty"`
	NewKID      string            `json:"new_kid,omitempty"`
	PlanDigests map[string]string `json:"plan_digests,omitempty"` // sha256 of each applied plan file, by step
	Checks      []AuditCheck      `json:"checks,omitempty"`
	Accepted    []string          `json:"accepted,omitempty"`
	Repairs     []string          `json:"repairs,omitempty"` // leftover credentials removed through the Management API
	Outcome     string            `json:"outcome"`
	Error       string            `json:"error,omitempty"`
	Rebuilt     *Rebuilt          `json:"rebuilt,omitempty"` // the rotation's journal was rebuilt from the world: how
	Late        string            `json:"late,omitempty"`    // the record was written after the rotation ended: when, and why not then
}

// AuditCheck is a token-exchange check in the audit log.
type AuditCheck struct {
	Step      string `json:"step"`
	Role      string `json:"role"`
	KID       string `json:"kid"`
	OK        bool   `json:"ok"`
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
}

// AuditPath is where the audit log of a Terraform folder is.
func AuditPath(tfDir string) string { return filepath.Join(tfDir, journalDir, "audit.jsonl") }

// appendAudit adds one record to the audit log (O_APPEND; one write per record).
func appendAudit(tfDir string, rec AuditRecord) error {
	path := AuditPath(tfDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// auditRecord is the audit log's record of the journal's rotation, with outcome, as operator
// ran it at time at.
func (j *Journal) auditRecord(operator, outcome string, at time.Time) AuditRecord {
	rec := AuditRecord{
		Time: at.UTC(), Operator: operator, ClientID: j.ClientID, ClientName: j.ClientName, PlanDigests: j.PlanDigests,
		Checks: j.Checks, Accepted: j.Accepted, Repairs: j.Repairs, Outcome: outcome, Rebuilt: j.Rebuilt,
	}
	if j.Old != nil {
		rec.OldKID = j.Old.KID
	}
	if j.New != nil {
		rec.NewKID = j.New.KID
	}
	return rec
}

// writeLateAudits writes the audit records that earlier rotations of the client could not
// write when they ended, from their archived journals, and clears the journals' note. Until
// it can, no new rotation of the client starts.
func (e *engine) writeLateAudits() error {
	done, err := finishedJournals(e.opts.TerraformDir, e.client.ID)
	if err != nil {
		return err
	}
	for _, j := range done {
		if j.AuditError == "" {
			continue
		}
		ended := j.finishedAt()
		rec := j.auditRecord(j.Operator, j.Status, ended)
		rec.Late = fmt.Sprintf("written %s; when the rotation ended, the audit log could not be written: %s", e.deps.Now().UTC().Format(time.RFC3339), j.AuditError)
		if err := appendAudit(e.opts.TerraformDir, rec); err != nil {
			path := AuditPath(e.opts.TerraformDir)
			return fmt.Errorf("%w to %s: %v. It is the record of %s's rotation that ended %s (%s, journal %s); no new rotation of the client starts until the record is written: make %s a file rekey can append to, then run rekey again",
				ErrAuditNotWritten, path, err, j.ClientName, ended.Format(time.RFC3339), j.Status, j.path, path)
		}
		j.AuditError = ""
		if err := j.save(); err != nil {
			return err
		}
		e.emit(Event{Kind: Output, Text: fmt.Sprintf("Wrote the audit record of the rotation that ended %s (%s); the audit log could not be written then", ended.Format(time.RFC3339), j.Status)})
	}
	return nil
}
