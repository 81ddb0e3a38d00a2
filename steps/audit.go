package steps

import (
	"encoding/json"
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
