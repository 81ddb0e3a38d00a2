package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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

// terminalPrompter answers gates headless: with --yes as a human would, else by asking on the
// terminal; without a terminal it refuses, saying to pass --yes.
type terminalPrompter struct {
	in     *bufio.Reader
	out    io.Writer
	yes    bool
	isTerm bool
}

func newTerminalPrompter(stdin io.Reader, out io.Writer, yes bool) steps.Prompter {
	f, ok := stdin.(*os.File)
	isTerm := false
	if ok {
		if info, err := f.Stat(); err == nil {
			isTerm = info.Mode()&os.ModeCharDevice != 0
		}
	}
	return &terminalPrompter{in: bufio.NewReader(stdin), out: out, yes: yes, isTerm: isTerm}
}

// Ask implements steps.Prompter.
func (p *terminalPrompter) Ask(ctx context.Context, q steps.Question) (steps.Answer, error) {
	if p.yes {
		return steps.AutoApprove{}.Ask(ctx, q)
	}
	if !p.isTerm {
		return steps.Answer{}, errors.New("confirmation needed (" + q.Title + ") and no terminal to ask on: run in a terminal, or pass --yes")
	}
	if q.Body != "" {
		fmt.Fprintln(p.out, indent(q.Body))
	}
	if q.Kind == steps.TypeName {
		fmt.Fprintf(p.out, "%s: ", q.Title)
	} else {
		fmt.Fprintf(p.out, "%s [y/N] ", q.Title)
	}
	line, err := p.in.ReadString('\n')
	if err != nil && line == "" {
		return steps.Answer{}, err
	}
	line = strings.TrimSpace(line)
	if q.Kind == steps.TypeName {
		return steps.Answer{Yes: line == q.Expect, Text: line}, nil
	}
	return steps.Answer{Yes: strings.EqualFold(line, "y") || strings.EqualFold(line, "yes")}, nil
}
