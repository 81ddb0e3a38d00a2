package steps

import (
	"fmt"
	"slices"
	"time"

	"rekey/tenant"
)

// RerunWindow is how long after rekey put a client's key in place a rotation of the client is
// taken for a rerun of the rotation that did it: it does nothing and says how that rotation
// finished. Options.Again rotates anyway; after the window, a rotation starts as usual.
const RerunWindow = 12 * time.Hour

// Rerun is the finished rotation a rerun found; nothing was done.
type Rerun struct {
	// FinishedAt is when that rotation finished (with no record of it: when the tenant created
	// the key).
	FinishedAt time.Time `json:"finished_at"`
	Operator   string    `json:"operator,omitempty"`
	Journal    string    `json:"journal,omitempty"` // its archived journal; "" when none was found
	// Until is when the window ends: from then on a rotation of the client starts without
	// Options.Again.
	Until time.Time `json:"until"`

	prev *Journal // the archived journal, nil when none was found
}

// rerun finds the finished rotation whose work a new rotation would redo, or nil. The rule:
// the client's only attached key was put in place by rekey less than RerunWindow ago — it is
// the new key of the client's last finished rotation, archived in .rekey/done (its finish
// time counts), or, with no record of one, its private key file is in the key folder under
// rekey's name (the tenant's creation time counts). Options.Again, and a rotation in
// progress, skip the rule.
func (e *engine) rerun() (*Rerun, error) {
	attached := e.client.Attached()
	if e.opts.Again || len(e.j.Steps) > 0 || len(attached) != 1 {
		return nil, nil
	}
	key := attached[0]
	done, err := finishedJournals(e.opts.TerraformDir, e.client.ID)
	if err != nil {
		return nil, err
	}
	r := &Rerun{FinishedAt: key.CreatedAt}
	if last := lastRotated(done); last != nil && last.New.KID == key.KID {
		r.prev = last
	}
	switch {
	case r.prev != nil:
		r.FinishedAt, r.Operator, r.Journal = r.prev.finishedAt(), r.prev.Operator, r.prev.path
	case e.rekeyKeyFiles()[key.KID] == "":
		return nil, nil
	}
	r.Until = r.FinishedAt.Add(RerunWindow)
	if r.FinishedAt.IsZero() || !e.deps.Now().Before(r.Until) {
		return nil, nil
	}
	e.emit(Event{Kind: Output, Text: r.describe(e.client, key)})
	return r, nil
}

// lastRotated is the newest rotation among done (oldest first) that put a new key in place.
func lastRotated(done []*Journal) *Journal {
	for _, j := range slices.Backward(done) {
		if j.Status == StatusRotated && j.New != nil {
			return j
		}
	}
	return nil
}

// describe tells the operator what the rerun found and how to rotate anyway.
func (r *Rerun) describe(c tenant.Client, key tenant.Credential) string {
	how := fmt.Sprintf("by %s (journal %s)", r.Operator, r.Journal)
	if r.Journal == "" {
		how = "(its private key file is rekey's, in the key folder; no journal of that rotation was found)"
	}
	return fmt.Sprintf("%s was already rotated: its only attached key %s was put in place %s %s. Nothing was done; to rotate it again before %s, pass --again.",
		c.Name, key.KID, r.FinishedAt.UTC().Format(time.RFC3339), how, r.Until.UTC().Format(time.RFC3339))
}

// result is the Result of a rerun: the finished rotation as its journal tells it (with no
// journal, only its new key), what the rerun found, and an audit record of it that still
// cannot be written (e.lateAudit).
func (r *Rerun) result(e *engine) Result {
	res := Result{Status: StatusRotated, ClientID: e.client.ID, ClientName: e.client.Name, NewKID: e.client.Attached()[0].KID, AuditLog: AuditPath(e.opts.TerraformDir)}
	if r.prev != nil {
		e.j = r.prev
		res = e.result(nil)
	}
	if e.lateAudit != nil {
		res.Error = e.lateAudit.Error()
	}
	res.Rerun = r
	return res
}
