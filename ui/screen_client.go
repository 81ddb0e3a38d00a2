package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"rekey/steps"
	"rekey/tenant"
)

// keyCheck is the state of the live check of one key.
type keyCheck struct {
	running bool
	have    bool
	result  tenant.CheckResult
}

// clientScreen shows one client: its credentials, the Terraform resource that owns them, the
// provider version, a rotation in progress, and live checks of the keys whose private key is
// known.
type clientScreen struct {
	c          *common
	id         int
	client     tenant.Client
	setup      bool // opts and known arrived
	opts       steps.Options
	known      map[string]string
	ws         *workspaceInfo
	journal    *steps.Journal
	journalErr error
	refreshErr error
	checks     map[string]*keyCheck
	audience   string
	note       string
	width      int
	height     int
}

func newClientScreen(c *common, client tenant.Client) *clientScreen {
	return &clientScreen{c: c, id: c.nextID(), client: client, checks: map[string]*keyCheck{}, width: 80, height: 20}
}

func (s *clientScreen) init() tea.Cmd {
	b := s.c.backend
	return tea.Batch(setupCmd(b, s.id, s.client), fetchClientCmd(s.c.life, b.Tenant, s.id, s.client.ID))
}

func (s *clientScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case setupMsg:
		if msg.owner != s.id {
			return nil
		}
		s.setup, s.opts, s.known = true, msg.opts, msg.known
		s.audience = s.opts.Audience
		return tea.Batch(
			workspaceCmd(s.c.life, s.c.backend.Terraform, s.opts.TerraformDir, s.id, s.client.ID),
			journalCmd(s.opts.TerraformDir, s.id, s.client.ID),
			s.checkAll(),
		)
	case clientMsg:
		if msg.owner != s.id {
			return nil
		}
		s.refreshErr = msg.err
		if msg.err == nil {
			s.client = msg.client
		}
	case workspaceMsg:
		if msg.owner == s.id {
			s.ws = &msg.info
		}
	case journalMsg:
		if msg.owner == s.id {
			s.journal, s.journalErr = msg.journal, msg.err
		}
	case keyCheckMsg:
		if msg.owner != s.id {
			return nil
		}
		if msg.audience != "" {
			s.audience = msg.audience
		}
		s.checks[msg.kid] = &keyCheck{have: true, result: msg.result}
	case tea.KeyMsg:
		return s.key(msg)
	}
	return nil
}

func (s *clientScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	s.note = ""
	switch {
	case key.Matches(msg, k.Back):
		return send(backMsg{})
	case key.Matches(msg, k.Check):
		if cmd := s.checkAll(); cmd != nil {
			return cmd
		}
		if s.setup {
			s.note = "No private key of this client's credentials is known here (the system config lists none), so they cannot be checked live."
		}
	case key.Matches(msg, k.Rotate):
		switch {
		case !s.setup:
			s.note = "Still reading the client's settings" + s.c.st.Mark.Ellipsis
		case s.client.AuthMethod != "private_key_jwt":
			s.note = fmt.Sprintf("%s authenticates with %s; rekey rotates private_key_jwt credentials only.", s.client.Name, orNone(s.client.AuthMethod))
		default:
			return send(startRotationMsg{client: s.client, journal: s.inProgress(), opts: s.opts, known: s.known, current: s.currentKey()})
		}
	}
	return nil
}

// currentKey is the attached credential a rotation replaces, with its HCL block's key when
// the workspace declares it.
func (s *clientScreen) currentKey() steps.CurrentKey {
	attached := s.client.Attached()
	if len(attached) == 0 {
		return steps.CurrentKey{}
	}
	var cur steps.CurrentKey
	if s.ws != nil {
		cur = s.ws.Keys[attached[0].KID]
	}
	cur.Credential = attached[0]
	return cur
}

// inProgress is the journal of a rotation in progress, or nil.
func (s *clientScreen) inProgress() *steps.Journal {
	if s.journal != nil && s.journal.Status == steps.StatusInProgress {
		return s.journal
	}
	return nil
}

// checkAll starts a live check of every key whose private key is known and that is not
// being checked already.
func (s *clientScreen) checkAll() tea.Cmd {
	var cmds []tea.Cmd
	for _, cr := range s.client.Credentials {
		file := s.known[cr.KID]
		if file == "" || (s.checks[cr.KID] != nil && s.checks[cr.KID].running) {
			continue
		}
		prev := s.checks[cr.KID]
		next := &keyCheck{running: true}
		if prev != nil {
			next.have, next.result = prev.have, prev.result
		}
		s.checks[cr.KID] = next
		cmds = append(cmds, checkKeyCmd(s.c.life, s.c.backend.Tenant, s.id, s.client.ID, checkSpec{role: "current", kid: cr.KID, alg: cr.Alg, file: file}, s.audience))
	}
	return tea.Batch(cmds...)
}

func (s *clientScreen) view() string {
	st := s.c.st
	w := s.width
	c := s.client
	var lines []string
	add := func(l ...string) { lines = append(lines, l...) }
	field := func(label, value string) string {
		return "  " + st.Subtle.Render(st.pad(label, 10)) + " " + ansi.Truncate(value, max(w-13, 4), st.Mark.Ellipsis)
	}
	add(st.Title.Render(ansi.Truncate(c.Name, w, st.Mark.Ellipsis)))
	add(field("client_id", c.ID))
	auth := orNone(c.AuthMethod)
	if c.AppType != "" {
		auth += " " + st.Mark.Dot + " " + c.AppType
	}
	add(field("auth", auth))
	switch {
	case s.ws == nil:
		add(field("terraform", s.c.spin.View()+" reading the workspace"+st.Mark.Ellipsis))
	default:
		switch {
		case s.ws.Manual != "":
			add(field("terraform", s.ws.Resource+st.Subtle.Render(" (in the state; rekey cannot edit this layout, so the rotation asks you for each edit)")))
		case s.ws.Resource != "":
			add(field("terraform", s.ws.Resource+st.Subtle.Render(" ("+s.ws.File+")")))
		default:
			add(field("terraform", st.Warn.Render("unknown")+" "+st.Subtle.Render(firstLine(s.ws.ResourceErr))))
		}
		if s.ws.Provider != "" {
			add(field("provider", "auth0 "+s.ws.Provider))
		} else {
			add(field("provider", st.Warn.Render("unknown")+" "+st.Subtle.Render(firstLine(s.ws.ProviderErr))))
		}
	}
	if s.refreshErr != nil {
		add(field("refresh", st.Warn.Render("could not re-read the client: "+firstLine(s.refreshErr))))
	}
	add("")
	if c.AuthMethod != "private_key_jwt" && len(c.Credentials) == 0 {
		add("  " + st.Subtle.Render("This client does not use Private Key JWT: there are no credentials to rotate."))
	} else {
		add(s.credentials()...)
	}
	add("")
	if j := s.inProgress(); j != nil {
		var done []string
		for _, step := range steps.AllSteps {
			if j.Done(step) {
				done = append(done, step.String())
			}
		}
		text := fmt.Sprintf("%s A rotation is in progress: started %s by %s; done: %s. r resumes it.",
			st.Mark.InProgress, j.StartedAt.Local().Format("2006-01-02 15:04"), orNone(j.Operator), orNone(strings.Join(done, ", ")))
		add(st.Accent.Render(indentWrap(text, w, 2)))
	} else if s.journalErr != nil {
		add(st.Bad.Render(indentWrap("The rotation journal cannot be read: "+s.journalErr.Error(), w, 2)))
	}
	if s.note != "" {
		add(st.Warn.Render(indentWrap(s.note, w, 2)))
	}
	return strings.Join(lines, "\n")
}

// credentials renders the credential table and the reasons of failed checks.
func (s *clientScreen) credentials() []string {
	st := s.c.st
	c := s.client
	kidW := min(12+max(s.width-80, 0)/2, 43)
	const fixed = 2 + 1 + 5 + 1 + 10 + 1 + 10 + 1 + 3 + 1 + 14
	nameW := max(s.width-fixed-kidW-1, 6)
	lines := []string{
		"  " + st.Title.Render(fmt.Sprintf("Credentials: %d attached of %d", len(c.Attached()), len(c.Credentials))) +
			st.Subtle.Render(" (Auth0 allows 2 attached)"),
		st.Heading.Render("  " + st.pad("NAME", nameW) + " " + st.pad("KID", kidW) + " " + st.pad("ALG", 5) + " " + st.pad("CREATED", 10) + " " +
			st.pad("EXPIRES", 10) + " " + st.pad("ATT", 3) + " " + "LIVE CHECK"),
	}
	if len(c.Credentials) == 0 {
		return append(lines, "  "+st.Subtle.Render("no credentials"))
	}
	var failures []string
	unknown := false
	for _, cr := range c.Credentials {
		att := st.Subtle.Render(st.pad("no", 3))
		if cr.Attached {
			att = st.Good.Render(st.pad("yes", 3))
		}
		exp := st.Subtle.Render(st.pad("never", 10))
		if cr.ExpiresAt != nil {
			style := st.Fine
			if left := cr.ExpiresAt.Sub(s.c.cfg.now()); left <= 0 {
				style = st.Expired
			} else if left <= 30*24*time.Hour {
				style = st.Later
			}
			exp = style.Render(st.pad(cr.ExpiresAt.Local().Format("2006-01-02"), 10))
		}
		created := "-"
		if !cr.CreatedAt.IsZero() {
			created = cr.CreatedAt.Local().Format("2006-01-02")
		}
		check := st.Faint.Render(st.Mark.Dash)
		if s.known[cr.KID] == "" {
			unknown = true
		} else if kc := s.checks[cr.KID]; kc != nil {
			switch {
			case kc.have && kc.result.OK:
				check = st.Good.Render(fmt.Sprintf("%s %d ms", st.Mark.OK, kc.result.Latency.Milliseconds()))
			case kc.have:
				check = st.Bad.Render(st.Mark.Fail + " failed")
				failures = append(failures, fmt.Sprintf("%s %s: %s", st.Mark.Fail, shortKID(cr.KID), steps.DescribeCheck(kc.result)))
			}
			if kc.running {
				check = s.c.spin.View() + " " + ansi.Strip(check)
				if !kc.have {
					check = s.c.spin.View() + " checking"
				}
			}
		}
		lines = append(lines, "  "+st.pad(orNone(cr.Name), nameW)+" "+st.pad(cr.KID, kidW)+" "+st.pad(orNone(cr.Alg), 5)+" "+st.pad(created, 10)+" "+
			exp+" "+att+" "+check)
	}
	for _, f := range failures {
		lines = append(lines, st.Bad.Render(indentWrap(f, s.width, 2)))
	}
	if unknown {
		lines = append(lines, "  "+st.Faint.Render(st.Mark.Dash+" private key not known here (not in the system config): no live check"))
	}
	return lines
}

func (s *clientScreen) setSize(w, h int)      { s.width, s.height = w, h }
func (s *clientScreen) helpKeys() help.KeyMap { return s.c.keys.ClientHelp() }
func (s *clientScreen) capturing() bool       { return false }
func (s *clientScreen) busy() bool            { return false }
