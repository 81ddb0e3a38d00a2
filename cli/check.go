package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/term"

	"rekey/inventory"
	"rekey/tenant"
)

// exitExpiring is rekey check's status when an attached credential expires within the window.
const exitExpiring = 1

// runCheck lists every client's credentials with their age and expiry, for people and cron.
func runCheck(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("rekey check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	within := fs.String("within", "30d", "warn about attached credentials that expire within this window (e.g. 30d, 72h)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cached := fs.Bool("cached", false, "reuse the credential details of the last listing (cached per tenant) for clients whose attached credentials have not changed: the client pages are still read, most credential pools are not")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK, err
		}
		return exitUsage, usageError{err.Error()}
	}
	// failed ends the check with code; with --json it still prints the one object, with the error.
	failed := func(code int, err error) (int, error) {
		if *asJSON {
			printReport(stdout, expiryReport{CheckedAt: time.Now().UTC(), Error: err.Error(), Clients: []clientReport{}})
		}
		return code, err
	}
	window, err := parseWindow(*within)
	if err != nil {
		return failed(exitUsage, err)
	}
	t, _, err := tenantFromEnv()
	if err != nil {
		return failed(exitUsage, err)
	}
	loader := clientInventory(t, "")
	loader.TrustCache = *cached
	clients, err := loadAll(context.Background(), loader, progressWriter(stderr))
	if err != nil {
		return failed(exitError, err)
	}
	report := newExpiryReport(clients, time.Now(), window)
	if *asJSON {
		printReport(stdout, report)
	} else {
		report.print(stdout)
	}
	if report.Expiring > 0 {
		return exitExpiring, nil
	}
	return exitOK, nil
}

// loadAll loads the whole client list, reporting progress to progress (when not nil).
func loadAll(ctx context.Context, loader inventory.Loader, progress io.Writer) ([]tenant.Client, error) {
	var final inventory.Update
	for u := range loader.Start(ctx).Updates() {
		if progress != nil {
			switch {
			case u.Final:
				fmt.Fprint(progress, "\r\x1b[K")
			case u.ToLoad > 0:
				fmt.Fprintf(progress, "\r\x1b[Kreading credentials: %d of %d clients", u.Loaded, u.ToLoad)
			default:
				fmt.Fprint(progress, "\r\x1b[Klisting clients…")
			}
		}
		final = u
	}
	return final.Clients, final.Err
}

// progressWriter is w when it is a terminal (progress lines would litter a log), else nil.
func progressWriter(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		return f
	}
	return nil
}

// printReport writes r as one line of JSON.
func printReport(w io.Writer, r expiryReport) {
	line, _ := json.Marshal(r)
	fmt.Fprintln(w, string(line))
}

// parseWindow reads "30d" or a Go duration such as "72h".
func parseWindow(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef("check: --within %q: give days like 30d or a duration like 72h", s)
	}
	return d, nil
}

// expiryReport is rekey check's output.
type expiryReport struct {
	CheckedAt  time.Time      `json:"checked_at"`
	WithinDays float64        `json:"within_days"`
	Expiring   int            `json:"expiring"` // attached credentials expiring within the window (or expired)
	Clients    []clientReport `json:"clients"`
	Error      string         `json:"error,omitempty"` // why the check could not run
}

type clientReport struct {
	ClientID    string             `json:"client_id"`
	Name        string             `json:"name"`
	AuthMethod  string             `json:"auth_method"`
	Credentials []credentialReport `json:"credentials"`
}

type credentialReport struct {
	KID       string     `json:"kid"`
	Alg       string     `json:"alg"`
	Attached  bool       `json:"attached"`
	CreatedAt time.Time  `json:"created_at"`
	AgeDays   int        `json:"age_days"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	DaysLeft  *int       `json:"days_left,omitempty"`
	Expiring  bool       `json:"expiring"`
}

func newExpiryReport(clients []tenant.Client, now time.Time, window time.Duration) expiryReport {
	r := expiryReport{CheckedAt: now.UTC(), WithinDays: window.Hours() / 24, Clients: []clientReport{}}
	for _, c := range clients {
		cr := clientReport{ClientID: c.ID, Name: c.Name, AuthMethod: c.AuthMethod, Credentials: []credentialReport{}}
		for _, k := range c.Credentials {
			kr := credentialReport{KID: k.KID, Alg: k.Alg, Attached: k.Attached, CreatedAt: k.CreatedAt, AgeDays: int(now.Sub(k.CreatedAt).Hours() / 24), ExpiresAt: k.ExpiresAt}
			if k.ExpiresAt != nil {
				left := int(k.ExpiresAt.Sub(now).Hours() / 24)
				kr.DaysLeft = &left
				kr.Expiring = k.Attached && k.ExpiresAt.Before(now.Add(window))
			}
			if kr.Expiring {
				r.Expiring++
			}
			cr.Credentials = append(cr.Credentials, kr)
		}
		r.Clients = append(r.Clients, cr)
	}
	return r
}

// print writes the report as a table, one line per credential.
func (r expiryReport) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tCLIENT ID\tKID\tALG\tATTACHED\tAGE\tEXPIRES\t")
	for _, c := range r.Clients {
		if len(c.Credentials) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t(%s)\t\t\t\t\t\n", c.Name, c.ClientID, c.AuthMethod)
		}
		for _, k := range c.Credentials {
			expires := "never"
			if k.ExpiresAt != nil {
				expires = fmt.Sprintf("%s (%d days)", k.ExpiresAt.Format("2006-01-02"), *k.DaysLeft)
			}
			if k.Expiring {
				expires += "  << EXPIRING"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%dd\t%s\t\n", c.Name, c.ClientID, k.KID, k.Alg, k.Attached, k.AgeDays, expires)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "%d attached credential(s) expire within %.0f days.\n", r.Expiring, r.WithinDays)
}
