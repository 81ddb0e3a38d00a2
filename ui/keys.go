package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// KeyMap is every key binding of the wizard. One key may mean different things on different
// screens (r reloads the list, rotates a client, retries a step), so each meaning has its own
// binding and its own help text; the screens say which apply through the help sets below.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding // moving in lists and scrolling views
	Help                                  key.Binding // toggle full help
	Quit                                  key.Binding // q: quit (asks while the engine runs)
	Interrupt                             key.Binding // ctrl+c: cancel the running step, or quit

	// Clients.
	Open, Filter, ClearFilter, Sort, Reload key.Binding

	// Client.
	Rotate, Check, Back key.Binding

	// Generate form.
	Start, NextField, PrevField, Left, Right, Change key.Binding

	// Rotation.
	Log, CancelStep, Yes, No, Apply, Switch, Submit, Scroll key.Binding
	ExpandKeys                                              key.Binding // PEM blocks in diffs: one line each, or whole
	Retry, Abort, QuitLater, Again, Edit                    key.Binding

	// Done.
	Finish key.Binding
}

// DefaultKeyMap returns the wizard's key bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:    b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown:  b([]string{"pgdown", "ctrl+f", " "}, "pgdn", "page down"),
		Home:      b([]string{"home", "g"}, "g/home", "first"),
		End:       b([]string{"end", "G"}, "G/end", "last"),
		Help:      b([]string{"?"}, "?", "more keys"),
		Quit:      b([]string{"q"}, "q", "quit"),
		Interrupt: b([]string{"ctrl+c"}, "ctrl+c", "quit"),

		Open:        b([]string{"enter"}, "enter", "open"),
		Filter:      b([]string{"/"}, "/", "filter"),
		ClearFilter: b([]string{"esc"}, "esc", "clear filter"),
		Sort:        b([]string{"s"}, "s", "sort name/expiry"),
		Reload:      b([]string{"r"}, "r", "reload"),

		Rotate: b([]string{"r"}, "r", "rotate"),
		Check:  b([]string{"c"}, "c", "check keys now"),
		Back:   b([]string{"esc"}, "esc", "back"),

		Start:     b([]string{"enter"}, "enter", "start"),
		NextField: b([]string{"tab", "down"}, "tab/↓", "next field"),
		PrevField: b([]string{"shift+tab", "up"}, "shift+tab/↑", "previous field"),
		Left:      b([]string{"left", "h"}, "←", "previous choice"),
		Right:     b([]string{"right", "l"}, "→", "next choice"),
		Change:    b([]string{"left", "right"}, "←/→", "change"),

		Log:        b([]string{"l"}, "l", "terraform log"),
		CancelStep: b([]string{"esc", "ctrl+c"}, "esc", "cancel step"),
		Yes:        b([]string{"y"}, "y", "yes"),
		No:         b([]string{"n"}, "n", "no"),
		Apply:      b([]string{"y"}, "y", "apply"),
		Switch:     b([]string{"tab", "left", "right"}, "tab", "switch button"),
		Submit:     b([]string{"enter"}, "enter", "confirm"),
		Scroll:     b([]string{"up", "down", "pgup", "pgdown"}, "↑/↓", "scroll"),
		ExpandKeys: b([]string{"x", "ctrl+x"}, "x", "show/fold key PEMs"),
		Retry:      b([]string{"r"}, "r", "retry"),
		Again:      b([]string{"r"}, "r", "rotate again anyway"),
		Edit:       b([]string{"e"}, "e", "open $EDITOR there"),
		Abort:      b([]string{"a"}, "a", "abort"),
		QuitLater:  b([]string{"q"}, "q", "quit (resume later)"),

		Finish: b([]string{"enter"}, "enter", "back to clients"),
	}
}

// ASCII returns the key map with ASCII key names in its help (for the plain mode).
func (k KeyMap) ASCII() KeyMap {
	names := strings.NewReplacer("↑", "up", "↓", "down", "←", "left", "→", "right")
	for _, b := range []*key.Binding{
		&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Home, &k.End, &k.Help, &k.Quit, &k.Interrupt,
		&k.Open, &k.Filter, &k.ClearFilter, &k.Sort, &k.Reload, &k.Rotate, &k.Check, &k.Back,
		&k.Start, &k.NextField, &k.PrevField, &k.Left, &k.Right, &k.Change,
		&k.Log, &k.CancelStep, &k.Yes, &k.No, &k.Apply, &k.Switch, &k.Submit, &k.Scroll, &k.ExpandKeys,
		&k.Retry, &k.Abort, &k.QuitLater, &k.Finish,
	} {
		h := b.Help()
		b.SetHelp(names.Replace(h.Key), names.Replace(h.Desc))
	}
	return k
}

// helpSet is the help of one screen state: implements help.KeyMap.
type helpSet struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (h helpSet) ShortHelp() []key.Binding { return h.short }

// FullHelp implements help.KeyMap.
func (h helpSet) FullHelp() [][]key.Binding { return h.full }

var _ help.KeyMap = helpSet{}

func (k KeyMap) nav() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End}
}

// PreparingHelp is the help while the backend is prepared.
func (k KeyMap) PreparingHelp() help.KeyMap {
	return helpSet{short: []key.Binding{k.Quit}, full: [][]key.Binding{{k.Quit, k.Help}}}
}

// ClientsHelp is the help of the clients list; filtering: the filter field has the keyboard.
func (k KeyMap) ClientsHelp(filtering bool) help.KeyMap {
	if filtering {
		clear := k.ClearFilter
		return helpSet{
			short: []key.Binding{k.Open, clear, k.Up, k.Down},
			full:  [][]key.Binding{{k.Open, clear}, {k.Up, k.Down, k.PageUp, k.PageDown}},
		}
	}
	return helpSet{
		short: []key.Binding{k.Open, k.Filter, k.Sort, k.Reload, k.Quit, k.Help},
		full:  [][]key.Binding{{k.Open, k.Filter, k.ClearFilter, k.Sort, k.Reload}, k.nav(), {k.Help, k.Quit}},
	}
}

// ClientHelp is the help of one client's screen.
func (k KeyMap) ClientHelp() help.KeyMap {
	return helpSet{
		short: []key.Binding{k.Rotate, k.Check, k.Back, k.Quit, k.Help},
		full:  [][]key.Binding{{k.Rotate, k.Check}, {k.Back, k.Help, k.Quit}},
	}
}

// FormHelp is the help of the new-key form.
func (k KeyMap) FormHelp() help.KeyMap {
	return helpSet{
		short: []key.Binding{k.Start, k.NextField, k.Change, k.Back, k.Help},
		full:  [][]key.Binding{{k.Start, k.NextField, k.PrevField, k.Left, k.Right}, {k.Back, k.Help, k.Quit}},
	}
}

// RunningHelp is the help while the engine runs a step.
func (k KeyMap) RunningHelp(logShown bool) help.KeyMap {
	log := k.Log
	if logShown {
		log.SetHelp("l", "hide log")
	}
	return helpSet{
		short: []key.Binding{log, k.CancelStep, k.Quit, k.Help},
		full:  [][]key.Binding{{log, k.Scroll, k.PageUp, k.PageDown, k.ExpandKeys}, {k.CancelStep, k.Quit, k.Help}},
	}
}

// ProceedHelp is the help of a yes/no gate (label: what yes does).
func (k KeyMap) ProceedHelp(label string, canEdit bool) help.KeyMap {
	yes := k.Apply
	yes.SetHelp("y", label)
	no := k.No
	no.SetHelp("n", "decline")
	short := []key.Binding{yes, no, k.Scroll, k.CancelStep, k.Help}
	if canEdit {
		short = append([]key.Binding{k.Edit}, short...)
	}
	return helpSet{
		short: short,
		full:  [][]key.Binding{{yes, no, k.Switch, k.Submit}, {k.Scroll, k.PageUp, k.PageDown, k.ExpandKeys}, {k.CancelStep, k.Log, k.Help}},
	}
}

// TypeNameHelp is the help of the gate answered by typing the client's name (x is typed
// there: ctrl+x shows the key PEMs).
func (k KeyMap) TypeNameHelp() help.KeyMap {
	expand := k.ExpandKeys
	expand.SetHelp("ctrl+x", expand.Help().Desc)
	return helpSet{
		short: []key.Binding{k.Submit, k.Scroll, k.CancelStep},
		full:  [][]key.Binding{{k.Submit}, {k.Scroll, k.PageUp, k.PageDown, expand}, {k.CancelStep}},
	}
}

// ConfirmHelp is the help of a y/n confirmation dialog.
func (k KeyMap) ConfirmHelp() help.KeyMap {
	return helpSet{short: []key.Binding{k.Yes, k.No}, full: [][]key.Binding{{k.Yes, k.No}}}
}

// FailedHelp is the help after the engine stopped with an error; canAbort: abort is still safe.
func (k KeyMap) FailedHelp(canAbort bool) help.KeyMap {
	short := []key.Binding{k.Retry}
	if canAbort {
		short = append(short, k.Abort)
	}
	back := k.Back
	back.SetHelp("esc", "clients")
	log := k.Log
	log.SetHelp("l", "log")
	short = append(short, k.QuitLater, log, back, k.Help)
	return helpSet{short: short, full: [][]key.Binding{short[:len(short)-1], {k.Scroll, k.Help}}}
}

// AbortedHelp is the help after an abort finished.
func (k KeyMap) AbortedHelp() help.KeyMap {
	return helpSet{short: []key.Binding{k.Finish, k.Quit}, full: [][]key.Binding{{k.Finish, k.Quit, k.Help}}}
}

// RerunHelp is the help after the engine found the client rotated moments ago.
func (k KeyMap) RerunHelp() help.KeyMap {
	back := k.Back
	back.SetHelp("esc", "clients")
	return helpSet{short: []key.Binding{k.Again, back, k.Quit}, full: [][]key.Binding{{k.Again, back, k.Quit, k.Help}}}
}

// DoneHelp is the help of the done screen.
func (k KeyMap) DoneHelp() help.KeyMap {
	return helpSet{short: []key.Binding{k.Finish, k.Quit, k.Help}, full: [][]key.Binding{{k.Finish, k.Quit, k.Help}}}
}
