// Package ui is rekey's terminal wizard: it lists a tenant's clients, shows one client's
// credentials and where Terraform manages them, and drives the rotation engine (package steps)
// step by step, with live checks of the keys while it runs.
//
// The root model routes between one model per screen. Update never does I/O: that happens in
// the Cmds of cmds.go, and long work (Prepare, the engine) streams its progress back through
// channels read by re-armed wait Cmds.
package ui

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"rekey/consumer"
	"rekey/inventory"
	"rekey/steps"
	"rekey/tenant"
	"rekey/tfrunner"
)

// Backend is everything the wizard reads and runs; main builds it for a real tenant or the
// sandbox.
type Backend struct {
	Inventory inventory.Loader // the live list, loaded in stages
	Tenant    steps.Tenant     // for steps.Deps and live checks (CheckKey)
	Terraform tfrunner.Config  // Binary + Env for steps.Deps
	Usage     steps.UsageProbe // may be nil
	// Options are the base options for a client (TerraformDir, SystemConfig, KeyDir,
	// Audience…); the wizard sets Alg/Bits/CertDays from its form and Client = c.ID.
	Options func(c tenant.Client) steps.Options
	// KnownKeys maps kid → private key file for the keys whose private key is known (from the
	// system config), for live checks; may return nil.
	KnownKeys func(c tenant.Client) map[string]string
	// Consumer returns the stats of the sandbox demo consumer of a client (nil when it has
	// none); the field is nil outside the sandbox.
	Consumer func(clientID string) *consumer.Stats
	Sandbox  bool   // shows a SANDBOX badge
	Provider string // the sandbox's auth0 provider, shown beside the badge ("auth0 1.54.1 (real)")
}

// Prepare builds the Backend (e.g. starting the sandbox), reporting progress lines for the
// spinner.
type Prepare func(ctx context.Context, progress func(string)) (Backend, error)

// Option changes how the wizard looks or behaves.
type Option func(*config)

// WithPlain turns on the plain, accessible mode: no colour, ASCII markers.
func WithPlain(on bool) Option { return func(c *config) { c.plain = on } }

// WithNoColor turns colour off (as the NO_COLOR environment variable does).
func WithNoColor(on bool) Option { return func(c *config) { c.noColor = c.noColor || on } }

// config is what the Options set.
type config struct {
	plain, noColor bool
	renderer       *lipgloss.Renderer
	now            func() time.Time
	rotate, abort  engineFunc    // steps.Rotate and steps.Abort; tests substitute a scripted engine
	checkEvery     time.Duration // live checks during a rotation
	consumerEvery  time.Duration // demo consumer polling
}

func newConfig(opts []Option) config {
	cfg := config{
		noColor:       os.Getenv("NO_COLOR") != "",
		now:           time.Now,
		rotate:        steps.Rotate,
		abort:         steps.Abort,
		checkEvery:    2 * time.Second,
		consumerEvery: 500 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// common is what every screen shares. It is changed only in Update.
type common struct {
	cfg        config
	st         Styles
	keys       KeyMap
	life       context.Context // ends when the wizard quits
	stop       context.CancelFunc
	backend    Backend
	spin       spinner.Model
	ids        int
	background *sync.WaitGroup // engine runs and client-list loads still going; Run waits for them after the program ends (a load saves the client cache)
	prepErr    error
}

// nextID returns a fresh id for a screen instance or an engine run.
func (c *common) nextID() int {
	c.ids++
	return c.ids
}

// screen is which screen the wizard shows.
type screen int

const (
	screenPreparing screen = iota
	screenClients
	screenClient
	screenRotation
	screenDone
)

// screenModel is one screen. Its methods are called from the root model's Update and View only.
type screenModel interface {
	update(msg tea.Msg) tea.Cmd
	view() string
	setSize(width, height int)
	helpKeys() help.KeyMap
	// capturing reports that a text field has the keyboard: q and ? are text there.
	capturing() bool
	// busy reports that the engine runs: the screen itself handles q and ctrl+c (it asks).
	busy() bool
}

// model is the root model: the current screen, the size, the help bar.
type model struct {
	c        *common
	prepare  Prepare
	screen   screen
	prep     *preparingScreen
	clients  *clientsScreen
	client   *clientScreen
	rotation *rotationScreen
	done     *doneScreen
	help     help.Model
	width    int
	height   int
	laidOut  int // the chrome height the screens were last sized for
	quitting bool
}

// NewModel returns the wizard's root model, which runs prepare behind a spinner first (for
// tests; Run is the entry point).
func NewModel(prepare Prepare, opts ...Option) tea.Model {
	return newModel(context.Background(), prepare, newConfig(opts))
}

func newModel(ctx context.Context, prepare Prepare, cfg config) *model {
	life, stop := context.WithCancel(ctx)
	c := &common{
		cfg:        cfg,
		st:         NewStyles(cfg.renderer, cfg.plain, !cfg.noColor),
		keys:       DefaultKeyMap(),
		life:       life,
		stop:       stop,
		background: &sync.WaitGroup{},
	}
	c.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.st.Accent))
	if cfg.plain {
		c.spin.Spinner = spinner.Line
	}
	h := help.New()
	h.Styles = help.Styles{
		ShortKey: c.st.HelpKey, ShortDesc: c.st.HelpDesc, ShortSeparator: c.st.HelpSep, Ellipsis: c.st.HelpSep,
		FullKey: c.st.HelpKey, FullDesc: c.st.HelpDesc, FullSeparator: c.st.HelpSep,
	}
	h.Ellipsis = c.st.Mark.Ellipsis
	h.ShortSeparator = " " + c.st.Mark.Dot + " "
	if cfg.plain {
		c.keys = c.keys.ASCII()
	}
	m := &model{c: c, prepare: prepare, help: h, width: 80, height: 24}
	m.prep = newPreparingScreen(c)
	m.layout()
	return m
}

// Run opens the wizard on in/out (alt screen), running prepare behind a spinner first. When
// the program ends it cancels what still runs and waits for a running engine to stop, so that
// Terraform is interrupted cleanly and releases its state lock.
func Run(ctx context.Context, prepare Prepare, in io.Reader, out io.Writer, opts ...Option) error {
	cfg := newConfig(append([]Option{func(c *config) { c.renderer = lipgloss.NewRenderer(out) }}, opts...))
	m := newModel(ctx, prepare, cfg)
	defer m.c.stop()
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen(), tea.WithContext(ctx))
	_, err := p.Run()
	m.c.stop()
	m.c.background.Wait()
	switch {
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return err
	}
	return m.c.prepErr
}

// Init implements tea.Model.
func (m *model) Init() tea.Cmd {
	return tea.Batch(m.c.spin.Tick, m.prep.start(m.prepare))
}

func (m *model) active() screenModel {
	switch m.screen {
	case screenClients:
		return m.clients
	case screenClient:
		return m.client
	case screenRotation:
		return m.rotation
	case screenDone:
		return m.done
	}
	return m.prep
}

// screens are the screen models that exist; messages that are not keys go to all of them, and
// each ignores what is not its own.
func (m *model) screens() []screenModel {
	var out []screenModel
	if m.prep != nil {
		out = append(out, m.prep)
	}
	if m.clients != nil {
		out = append(out, m.clients)
	}
	if m.client != nil {
		out = append(out, m.client)
	}
	if m.rotation != nil {
		out = append(out, m.rotation)
	}
	if m.done != nil {
		out = append(out, m.done)
	}
	return out
}

// Update implements tea.Model.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if m.chrome() != m.laidOut {
		m.layout() // the help bar changed height with the screen's state
	}
	return m, cmd
}

func (m *model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return nil
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.c.spin, cmd = m.c.spin.Update(msg)
		return cmd
	case tea.KeyMsg:
		return m.key(msg)
	case preparedMsg:
		cmd := m.prep.update(msg)
		if msg.err != nil {
			m.c.prepErr = msg.err
			return cmd
		}
		m.c.backend = msg.backend
		m.prep = nil
		m.clients = newClientsScreen(m.c)
		m.screen = screenClients
		m.layout()
		return tea.Batch(cmd, m.clients.load())
	case openClientMsg:
		m.client = newClientScreen(m.c, msg.client)
		m.screen = screenClient
		m.layout()
		return m.client.init()
	case backMsg:
		m.client, m.rotation, m.done = nil, nil, nil
		m.screen = screenClients
		m.layout()
		if msg.reload {
			return m.clients.load()
		}
		return nil
	case backToClientMsg:
		m.rotation = nil
		m.screen = screenClient
		if m.client == nil {
			m.screen = screenClients
		}
		m.layout()
		return nil
	case startRotationMsg:
		m.rotation = newRotationScreen(m.c, msg.client, msg.journal, msg.opts, msg.known, msg.current)
		m.screen = screenRotation
		m.layout()
		return m.rotation.init()
	case rotationFinishedMsg:
		m.done = newDoneScreen(m.c, msg.summary)
		m.rotation = nil
		m.screen = screenDone
		m.layout()
		return nil
	case quitMsg:
		return m.quit()
	}
	var cmds []tea.Cmd
	for _, s := range m.screens() {
		cmds = append(cmds, s.update(msg))
	}
	return tea.Batch(cmds...)
}

// key handles the keys every screen shares, then hands the key to the active screen.
func (m *model) key(msg tea.KeyMsg) tea.Cmd {
	s := m.active()
	k := m.c.keys
	switch {
	case key.Matches(msg, k.Interrupt) && !s.busy():
		return m.quit()
	case s.capturing() || s.busy() && key.Matches(msg, k.Quit):
		return s.update(msg)
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.layout()
		return nil
	case key.Matches(msg, k.Quit):
		return m.quit()
	}
	return s.update(msg)
}

// quit ends the program: everything still running is cancelled (a running engine is only ever
// left through its own confirmation, which cancels it first).
func (m *model) quit() tea.Cmd {
	m.quitting = true
	m.c.stop()
	return tea.Quit
}

// chrome is the height of the header line, the blank line above the help, and the help.
func (m *model) chrome() int {
	return 1 + 1 + lipgloss.Height(m.helpView()) // the header, a blank line, the help
}

func (m *model) helpView() string {
	return m.help.View(m.active().helpKeys())
}

// layout gives every screen the room left by the header and the help bar.
func (m *model) layout() {
	m.help.Width = m.width
	m.laidOut = m.chrome()
	h := max(m.height-m.laidOut, 1)
	for _, s := range m.screens() {
		s.setSize(m.width, h)
	}
}

// View implements tea.Model.
func (m *model) View() string {
	if m.quitting {
		return ""
	}
	helpView := m.helpView()
	bodyHeight := max(m.height-m.chrome(), 1)
	body := strings.Split(m.active().view(), "\n")
	if len(body) > bodyHeight {
		body = body[:bodyHeight]
	}
	for len(body) < bodyHeight {
		body = append(body, "")
	}
	lines := append([]string{m.header()}, body...)
	lines = append(lines, "") // nothing touches the help
	lines = append(lines, strings.Split(helpView, "\n")...)
	for i, l := range lines {
		// A safety net: the screens lay out to the width; nothing may wrap the terminal.
		if ansi.StringWidth(l) > m.width {
			lines[i] = ansi.Truncate(l, m.width, "")
		}
	}
	return strings.Join(lines, "\n")
}

// header is the top line: the app name, where the operator is, and the sandbox badge.
func (m *model) header() string {
	st := m.c.st
	left := st.App.Render("rekey")
	crumb := ""
	switch m.screen {
	case screenPreparing:
		crumb = "starting"
	case screenClients:
		crumb = "clients"
	case screenClient:
		crumb = "clients " + st.Mark.Arrow + " " + m.client.client.Name
	case screenRotation:
		crumb = "rotate " + m.rotation.client.Name
	case screenDone:
		crumb = "rotated " + m.done.sum.result.ClientName
	}
	right := ""
	if m.c.backend.Sandbox {
		right = st.Sandbox.Render("SANDBOX")
		if p := m.c.backend.Provider; p != "" {
			right = st.Crumb.Render(p) + " " + right
		}
	}
	room := m.width - lipgloss.Width(left) - lipgloss.Width(right) - 3
	if room > 0 && crumb != "" {
		left += " " + st.Crumb.Render(ansi.Truncate(crumb, room, st.Mark.Ellipsis))
	}
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return left
	}
	return left + strings.Repeat(" ", gap) + right
}
