package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"

	"rekey/steps"
)

// printEvent writes one engine event as plain lines, for headless runs and logs.
func printEvent(w io.Writer, ev steps.Event) {
	n := int(ev.Step) + 1
	switch ev.Kind {
	case steps.StepStarted:
		fmt.Fprintf(w, "== Step %d of %d — %s\n", n, len(steps.AllSteps), ev.Step)
	case steps.StepFinished:
		fmt.Fprintf(w, "   %s: done\n", ev.Step)
	case steps.StepFailed:
		fmt.Fprintf(w, "   %s: FAILED: %v\n", ev.Step, ev.Err)
	case steps.Output:
		if ev.Text != "" {
			fmt.Fprintf(w, "   %s\n", ev.Text)
		}
	case steps.Diff:
		fmt.Fprintf(w, "%s\n", indent(ev.Text))
	case steps.CheckDone:
		r := ev.Check.Result
		status := "ok"
		if !r.OK {
			status = "failed: " + steps.DescribeCheck(r)
		}
		fmt.Fprintf(w, "   check %s key %s: %s (%d ms)\n", ev.Check.Role, ev.Check.KID, status, r.Latency.Milliseconds())
	case steps.PlanReady:
		for _, c := range ev.Plan.Changes {
			fmt.Fprintf(w, "   plan: %s %s\n", c.Action(), c.Address)
		}
		if cc := ev.Plan.Credentials; cc != nil {
			for _, a := range cc.Added {
				fmt.Fprintf(w, "   plan: + credential %q (kid %s)\n", a.Name, a.KID)
			}
			for _, r := range cc.Removed {
				fmt.Fprintf(w, "   plan: - credential %q (kid %s)\n", r.Name, r.KID)
			}
		}
		for _, f := range ev.Findings {
			fmt.Fprintf(w, "   guard [%s]: %s\n", f.Rule, f.Message)
		}
	}
}

func indent(text string) string {
	return "   " + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n   ")
}

// progress prints the engine's events, and the headless prompts, from one goroutine: a prompt
// comes after every event sent before its question (the plan and the diff it asks about).
type progress struct {
	w      io.Writer
	events chan steps.Event
	calls  chan func()
	done   chan struct{}
}

// newProgress starts printing events to w.
func newProgress(w io.Writer) *progress {
	p := &progress{w: w, events: make(chan steps.Event, 64), calls: make(chan func()), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.done)
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				return
			}
			printEvent(p.w, ev)
		case f := <-p.calls:
			for p.printSent() { // the events sent before the call come first
			}
			f()
		}
	}
}

// printSent prints one event already sent, if there is one.
func (p *progress) printSent() bool {
	select {
	case ev, ok := <-p.events:
		if ok {
			printEvent(p.w, ev)
		}
		return ok
	default:
		return false
	}
}

// do runs f on the printing goroutine once every event sent before has been printed.
func (p *progress) do(f func()) {
	done := make(chan struct{})
	p.calls <- func() { f(); close(done) }
	<-done
}

// close prints the remaining events; call it once the engine has returned.
func (p *progress) close() {
	close(p.events)
	<-p.done
}

// canAsk refuses, before anything changes, a headless run that would have to ask (no --yes)
// with nobody to ask: stdin is not a terminal (a pipe, a file, or /dev/null, which is a
// character device but no terminal).
func canAsk(yes bool, stdin io.Reader) error {
	if f, ok := stdin.(*os.File); yes || ok && term.IsTerminal(f.Fd()) {
		return nil
	}
	return usagef("rotate: no terminal to ask on (stdin is not a terminal) and no --yes: run rekey rotate in a terminal, " +
		"or pass --yes to answer its gates as a human would; nothing was changed")
}

// terminalPrompter answers gates headless: with --yes as a human would (steps.AutoApprove),
// else by asking on the terminal. It prints every warning on stderr and keeps it for the JSON
// result; warnings not accepted by name (--accept-warning) are declined without asking.
type terminalPrompter struct {
	progress *progress
	in       *bufio.Reader
	stderr   io.Writer
	yes      bool
	warnings []steps.Warning // every warning asked about, in order
}

func newTerminalPrompter(p *progress, stdin io.Reader, stderr io.Writer, yes bool) *terminalPrompter {
	return &terminalPrompter{progress: p, in: bufio.NewReader(stdin), stderr: stderr, yes: yes, warnings: []steps.Warning{}}
}

// Ask implements steps.Prompter.
func (p *terminalPrompter) Ask(ctx context.Context, q steps.Question) (steps.Answer, error) {
	ask := !p.yes && steps.AcceptedByName(q.Warnings)
	p.progress.do(func() {
		p.warnings = append(p.warnings, q.Warnings...)
		for _, w := range q.Warnings {
			fmt.Fprintln(p.stderr, warningLine(w))
		}
		if ask {
			p.prompt(q)
		}
	})
	switch {
	case p.yes:
		return steps.AutoApprove{}.Ask(ctx, q)
	case !ask:
		return steps.Answer{}, nil // the engine's error names the warnings and the flag
	}
	return p.read(q)
}

// warningLine is how a warning is printed.
func warningLine(w steps.Warning) string {
	how := "not accepted: --accept-warning " + w.Name + " accepts it"
	if w.Accepted {
		how = "accepted with --accept-warning " + w.Name
	}
	return fmt.Sprintf("rekey: warning [%s]: %s (%s)", w.Name, w.Message, how)
}

// prompt shows the question on the progress output (the warnings are on stderr already).
func (p *terminalPrompter) prompt(q steps.Question) {
	if q.Body != "" && len(q.Warnings) == 0 && q.Kind != steps.EditYourself { // an edit's body is printed as progress
		fmt.Fprintln(p.progress.w, indent(q.Body))
	}
	if q.Kind == steps.TypeName {
		fmt.Fprintf(p.progress.w, "%s: ", q.Title)
	} else {
		fmt.Fprintf(p.progress.w, "%s [y/N] ", q.Title)
	}
}

// read takes the operator's answer from the terminal; end of input is a no.
func (p *terminalPrompter) read(q steps.Question) (steps.Answer, error) {
	line, err := p.in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return steps.Answer{}, err
	}
	line = strings.TrimSpace(line)
	if q.Kind == steps.TypeName {
		return steps.Answer{Yes: line == q.Expect, Text: line}, nil
	}
	return steps.Answer{Yes: strings.EqualFold(line, "y") || strings.EqualFold(line, "yes")}, nil
}
