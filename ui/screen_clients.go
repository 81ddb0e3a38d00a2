package ui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"rekey/inventory"
	"rekey/tenant"
)

// clientRow is one client with what the list needs precomputed.
type clientRow struct {
	client     tenant.Client
	key        string // lower-case name + "\x00" + lower-case id: what the filter searches
	nameLen    int    // the name's length in key
	attached   int
	pkjwt      bool
	poolKnown  bool      // the credential pool has been read (now or, when not fresh, from the cache)
	fresh      bool      // the pool was read in this load
	expiry     time.Time // soonest expiry of an attached credential
	hasExpiry  bool
	rotated    time.Time // when the newest attached credential was created; zero when none
	inProgress bool      // a rotation journal exists
}

// setClient (re)computes the row's columns from c.
func (r *clientRow) setClient(c tenant.Client) {
	r.client, r.pkjwt, r.poolKnown = c, c.AuthMethod == "private_key_jwt", c.PoolKnown()
	r.attached = c.AttachedCount()
	r.expiry, r.hasExpiry = c.SoonestExpiry()
	r.rotated = time.Time{}
	for _, cr := range c.Attached() {
		if cr.CreatedAt.After(r.rotated) {
			r.rotated = cr.CreatedAt
		}
	}
}

// clientList is the rows with both sort orders, built once per list and kept up to date as
// credential pools arrive.
type clientList struct {
	rows        []clientRow
	byID        map[string]int32
	nameWidth   int // the longest name's width
	inProgress  int // rows with a rotation in progress
	byName      []int32
	byExpiry    []int32
	expiryStale bool // byExpiry predates pools that arrived since
}

// buildClientList precomputes rows, filter keys and sort orders.
func buildClientList(clients []tenant.Client, inProgress []bool) clientList {
	l := clientList{rows: make([]clientRow, len(clients)), byID: make(map[string]int32, len(clients))}
	for i, c := range clients {
		name := strings.ToLower(c.Name)
		r := clientRow{key: name + "\x00" + strings.ToLower(c.ID), nameLen: len(name), fresh: c.PoolKnown()}
		r.setClient(c)
		r.inProgress = i < len(inProgress) && inProgress[i]
		if r.inProgress {
			l.inProgress++
		}
		l.rows[i] = r
		l.byID[c.ID] = int32(i)
		l.nameWidth = max(l.nameWidth, ansi.StringWidth(c.Name))
	}
	l.byName = make([]int32, len(clients))
	for i := range l.byName {
		l.byName[i] = int32(i)
	}
	slices.SortFunc(l.byName, func(a, b int32) int {
		ra, rb := &l.rows[a], &l.rows[b]
		return cmp.Or(strings.Compare(ra.key[:ra.nameLen], rb.key[:rb.nameLen]), strings.Compare(ra.client.ID, rb.client.ID))
	})
	l.sortByExpiry()
	return l
}

// sortByExpiry orders by soonest expiry; then clients whose pool is still loading, clients
// without an expiring key, and clients without private_key_jwt; by name within each.
func (l *clientList) sortByExpiry() {
	rank := func(r *clientRow) int {
		switch {
		case r.hasExpiry:
			return 0
		case r.pkjwt && !r.poolKnown:
			return 1
		case r.pkjwt:
			return 2
		}
		return 3
	}
	l.byExpiry = slices.Clone(l.byName)
	slices.SortStableFunc(l.byExpiry, func(a, b int32) int {
		ra, rb := &l.rows[a], &l.rows[b]
		if c := cmp.Compare(rank(ra), rank(rb)); c != 0 || !ra.hasExpiry {
			return c
		}
		return ra.expiry.Compare(rb.expiry)
	})
	l.expiryStale = false
}

// setPools fills in credential pools just read (client id → pool).
func (l *clientList) setPools(pools map[string][]tenant.Credential) {
	for id, pool := range pools {
		i, ok := l.byID[id]
		if !ok {
			continue
		}
		r := &l.rows[i]
		c := r.client
		c.Credentials = pool
		r.setClient(c)
		r.fresh = true
		l.expiryStale = true
	}
}

// sortMode is the order of the clients list.
type sortMode int

const (
	sortByName sortMode = iota
	sortByExpiry
)

func (s sortMode) String() string {
	if s == sortByExpiry {
		return "soonest expiry"
	}
	return "name"
}

// clientsScreen lists every client: filter as you type, sort by name or expiry, open one.
// It renders only the rows in view, so it stays fast with tens of thousands of clients.
type clientsScreen struct {
	c        *common
	gen      int
	inv      *inventory.Load
	stop     context.CancelFunc // ends inv
	loading  bool               // inv has not ended
	listed   bool               // the live list is in (not only the cached one)
	cachedAt time.Time          // the list shown is the cache saved then, until the live one comes
	pools    inventory.Update   // pool progress: Loaded of ToLoad
	poolsAt  time.Time          // when the pools began to load, for the time left
	err      error
	list     clientList
	loadedAt time.Time
	visible  []int32 // indices into list.rows, filtered, in sort order
	sort     sortMode
	filter   textinput.Model
	query    string // the lower-case filter visible was built for
	cursor   int    // index into visible
	offset   int    // first visible row shown
	width    int
	height   int
}

func newClientsScreen(c *common) *clientsScreen {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = "filter by name or client id"
	in.PromptStyle = c.st.Accent
	in.PlaceholderStyle = c.st.Faint
	in.CharLimit = 200
	return &clientsScreen{c: c, filter: in, width: 80, height: 20}
}

// load (re)starts loading the list, ending the load before.
func (s *clientsScreen) load() tea.Cmd {
	if s.stop != nil {
		s.stop()
	}
	ctx, stop := context.WithCancel(s.c.life)
	s.gen, s.stop = s.c.nextID(), stop
	s.inv = s.c.backend.Inventory.Start(ctx)
	s.c.background.Add(1)
	go func(done <-chan struct{}) {
		<-done
		s.c.background.Done()
	}(s.inv.Done())
	s.loading, s.listed, s.err, s.pools = true, false, nil, inventory.Update{}
	return waitInventoryCmd(s.inv, s.c.backend, s.gen, s.c.cfg.now)
}

// loaded applies one update of the load and waits for the next.
func (s *clientsScreen) loaded(msg inventoryMsg) tea.Cmd {
	if msg.gen != s.gen {
		return nil
	}
	if msg.closed {
		s.loading = false
		return nil
	}
	u := msg.update
	if msg.list != nil {
		var selected string
		if r, ok := s.selected(); ok {
			selected = r.client.ID
		}
		s.list, s.loadedAt, s.cachedAt = *msg.list, msg.loadedAt, u.CachedAt
		s.listed = s.listed || u.CachedAt.IsZero()
		s.query = "\xff" // force a full refilter
		s.refilter()
		s.selectID(selected)
	}
	if u.Pools != nil {
		s.list.setPools(u.Pools)
		if s.sort == sortByExpiry {
			s.resort()
		}
	}
	if s.listed && s.poolsAt.IsZero() && u.ToLoad > 0 {
		s.poolsAt = msg.loadedAt
	}
	s.pools, s.err = u, u.Err
	s.prefer()
	return waitInventoryCmd(s.inv, s.c.backend, s.gen, s.c.cfg.now)
}

// resort brings the expiry order up to date, keeping the selected client selected.
func (s *clientsScreen) resort() {
	selected := ""
	if r, ok := s.selected(); ok {
		selected = r.client.ID
	}
	if s.list.expiryStale {
		s.list.sortByExpiry()
	}
	s.query = "\xff"
	s.refilter()
	s.selectID(selected)
}

// prefer asks the load to read next the pools of the rows in view not yet read afresh.
func (s *clientsScreen) prefer() {
	if s.inv == nil || !s.loading {
		return
	}
	var ids []string
	for i := s.offset; i < min(s.offset+s.pageSize(), len(s.visible)); i++ {
		if r := &s.list.rows[s.visible[i]]; r.pkjwt && !r.fresh {
			ids = append(ids, r.client.ID)
		}
	}
	s.inv.Prefer(ids)
}

func (s *clientsScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case inventoryMsg:
		return s.loaded(msg)
	case tea.KeyMsg:
		cmd := s.key(msg)
		s.prefer()
		return cmd
	}
	if s.filter.Focused() {
		var cmd tea.Cmd
		s.filter, cmd = s.filter.Update(msg)
		return cmd
	}
	return nil
}

func (s *clientsScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	if s.filter.Focused() {
		switch {
		case msg.Type == tea.KeyEsc:
			s.filter.Blur()
			s.filter.SetValue("")
			s.refilter()
			return nil
		case msg.Type == tea.KeyEnter:
			s.filter.Blur()
			return s.open()
		case msg.Type == tea.KeyUp || msg.Type == tea.KeyCtrlP:
			s.move(-1)
			return nil
		case msg.Type == tea.KeyDown || msg.Type == tea.KeyCtrlN:
			s.move(1)
			return nil
		case msg.Type == tea.KeyPgUp:
			s.move(-s.pageSize())
			return nil
		case msg.Type == tea.KeyPgDown:
			s.move(s.pageSize())
			return nil
		}
		var cmd tea.Cmd
		s.filter, cmd = s.filter.Update(msg)
		s.refilter()
		return cmd
	}
	switch {
	case key.Matches(msg, k.Filter):
		return s.filter.Focus()
	case key.Matches(msg, k.ClearFilter):
		if s.filter.Value() != "" {
			s.filter.SetValue("")
			s.refilter()
		}
	case key.Matches(msg, k.Up):
		s.move(-1)
	case key.Matches(msg, k.Down):
		s.move(1)
	case key.Matches(msg, k.PageUp):
		s.move(-s.pageSize())
	case key.Matches(msg, k.PageDown):
		s.move(s.pageSize())
	case key.Matches(msg, k.Home):
		s.move(-len(s.visible))
	case key.Matches(msg, k.End):
		s.move(len(s.visible))
	case key.Matches(msg, k.Sort):
		s.sort = 1 - s.sort
		s.resort()
	case key.Matches(msg, k.Reload):
		if !s.loading {
			return s.load()
		}
	case key.Matches(msg, k.Open):
		return s.open()
	}
	return nil
}

// open asks the root model to open the selected client.
func (s *clientsScreen) open() tea.Cmd {
	r, ok := s.selected()
	if !ok {
		return nil
	}
	return send(openClientMsg{client: r.client})
}

func (s *clientsScreen) selected() (*clientRow, bool) {
	if s.cursor < 0 || s.cursor >= len(s.visible) {
		return nil, false
	}
	return &s.list.rows[s.visible[s.cursor]], true
}

func (s *clientsScreen) selectID(id string) {
	if id == "" {
		return
	}
	for i, idx := range s.visible {
		if s.list.rows[idx].client.ID == id {
			s.cursor = i
			s.scrollToCursor()
			return
		}
	}
}

// refilter rebuilds the visible rows for the filter text: a case-insensitive substring of the
// name or id, searched in the precomputed keys. A query that extends the previous one only
// searches the previous matches.
func (s *clientsScreen) refilter() {
	q := strings.ToLower(s.filter.Value())
	if q == s.query {
		return
	}
	order := s.list.byName
	if s.sort == sortByExpiry {
		order = s.list.byExpiry
	}
	switch {
	case q == "":
		s.visible = order
	default:
		base := order
		if s.query != "" && s.query != "\xff" && strings.HasPrefix(q, s.query) {
			base = s.visible
		}
		out := make([]int32, 0, min(len(base), 1024))
		for _, i := range base {
			if strings.Contains(s.list.rows[i].key, q) {
				out = append(out, i)
			}
		}
		s.visible = out
	}
	s.query = q
	s.cursor, s.offset = 0, 0
}

func (s *clientsScreen) move(d int) {
	s.cursor = min(max(s.cursor+d, 0), max(len(s.visible)-1, 0))
	s.scrollToCursor()
}

func (s *clientsScreen) scrollToCursor() {
	page := s.pageSize()
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+page {
		s.offset = s.cursor - page + 1
	}
	s.offset = max(0, min(s.offset, len(s.visible)-page))
}

// pageSize is how many rows fit under the status, filter and heading lines.
func (s *clientsScreen) pageSize() int {
	return max(s.height-3, 1)
}

// columns splits the width: name (as wide as the longest), client id (0: hidden), keys,
// expiry, last rotated (0: hidden; it takes the width left over), marker.
func (s *clientsScreen) columns() (name, id, rotated int) {
	const fixed = 2 + 1 + 4 + 1 + 12 + 2 // cursor, gaps, keys, expiry, marker
	const rotatedW = 1 + 10              // a gap and a date
	id = 32
	name = s.width - fixed - id - 1
	if name < 16 {
		id = max(s.width-fixed-16-1, 0)
		name = s.width - fixed - id - 1
		if id < 10 {
			id, name = 0, s.width-fixed
		}
	}
	if fit := max(s.list.nameWidth, len("NAME")); fit < name && name-fit >= rotatedW {
		name, rotated = fit, rotatedW-1
	}
	return max(name, 4), id, rotated
}

func (s *clientsScreen) view() string {
	st := s.c.st
	var lines []string
	switch {
	case s.loading && len(s.list.rows) == 0:
		return "\n  " + s.c.spin.View() + " Loading the clients" + st.Mark.Ellipsis
	case s.err != nil && len(s.list.rows) == 0:
		return "\n  " + st.Bad.Render(st.Mark.Fail+" Could not load the clients") + "\n\n" +
			indentWrap(s.err.Error(), s.width, 2) + "\n\n  " + st.Subtle.Render("r to retry, q to quit")
	}
	lines = append(lines, s.statusLine())
	if s.filter.Focused() || s.filter.Value() != "" {
		s.filter.Width = max(s.width-4, 10)
		lines = append(lines, s.filter.View())
	} else {
		lines = append(lines, "")
	}
	nameW, idW, rotatedW := s.columns()
	heading := "  " + st.pad("NAME", nameW) + " "
	if idW > 0 {
		heading += st.pad("CLIENT ID", idW) + " "
	}
	heading += st.pad("KEYS", 4) + " " + st.pad("EXPIRES", 12)
	if rotatedW > 0 {
		heading += " " + st.pad("ROTATED", rotatedW)
	}
	lines = append(lines, st.Heading.Render(heading))
	if len(s.visible) == 0 {
		msg := "No clients."
		if s.filter.Value() != "" {
			msg = fmt.Sprintf("No client matches %q %s esc clears the filter.", s.filter.Value(), st.Mark.Dash)
		}
		return strings.Join(append(lines, "  "+st.Subtle.Render(msg)), "\n")
	}
	end := min(s.offset+s.pageSize(), len(s.visible))
	for i := s.offset; i < end; i++ {
		lines = append(lines, s.row(&s.list.rows[s.visible[i]], i == s.cursor, nameW, idW, rotatedW))
	}
	return strings.Join(lines, "\n")
}

func (s *clientsScreen) statusLine() string {
	st := s.c.st
	count := fmt.Sprintf("%s clients", thousands(len(s.list.rows)))
	if len(s.visible) != len(s.list.rows) {
		count = fmt.Sprintf("%s of %s clients", thousands(len(s.visible)), thousands(len(s.list.rows)))
	}
	parts := []string{st.Title.Render(count), "sorted by " + s.sort.String()}
	if !s.listed && !s.cachedAt.IsZero() {
		parts = append(parts, st.Subtle.Render("cached "+shortDuration(s.loadedAt.Sub(s.cachedAt))+" ago"))
	}
	switch {
	case s.err != nil && !s.listed:
		parts = append(parts, st.Bad.Render("reload failed: "+s.err.Error()))
	case s.err != nil:
		parts = append(parts, st.Bad.Render("credentials stopped: "+s.err.Error()+" (r retries)"))
	case s.loading && !s.listed:
		parts = append(parts, s.c.spin.View()+" refreshing")
	case s.loading && s.pools.ToLoad > 0:
		parts = append(parts, s.c.spin.View()+" "+s.poolProgress())
	}
	switch n := s.list.inProgress; {
	case n == 1:
		parts = append(parts, st.Accent.Render(st.Mark.InProgress)+" 1 rotation in progress")
	case n > 1:
		parts = append(parts, st.Accent.Render(st.Mark.InProgress)+fmt.Sprintf(" %d rotations in progress", n))
	}
	line := strings.Join(parts, " "+st.Subtle.Render(st.Mark.Dot)+" ")
	return ansi.Truncate(line, s.width, st.Mark.Ellipsis)
}

// poolProgress is "credentials 1,200/5,000 · 4m left".
func (s *clientsScreen) poolProgress() string {
	p := s.pools
	line := fmt.Sprintf("credentials %s/%s", thousands(p.Loaded), thousands(p.ToLoad))
	if elapsed := s.c.cfg.now().Sub(s.poolsAt); p.Loaded > 0 && elapsed > 2*time.Second {
		left := time.Duration(float64(elapsed) / float64(p.Loaded) * float64(p.ToLoad-p.Loaded))
		line += " " + s.c.st.Mark.Dot + " " + shortDuration(left) + " left"
	}
	return line
}

// row renders one client; only rows in view are ever rendered.
func (s *clientsScreen) row(r *clientRow, selected bool, nameW, idW, rotatedW int) string {
	st := s.c.st
	cur := st.Mark.NoCursor
	nameStyle := lipgloss.Style{}
	if selected {
		cur = st.Mark.Cursor
		nameStyle = st.Selected
	}
	keys := "-"
	if r.pkjwt {
		keys = strconv.Itoa(r.attached)
	}
	line := cur + nameStyle.Render(st.pad(r.client.Name, nameW)) + " "
	if idW > 0 {
		line += st.Subtle.Render(st.pad(r.client.ID, idW)) + " "
	}
	if !r.pkjwt {
		line += st.Dim.Render(st.pad(keys, 4)) + " "
	} else {
		line += st.pad(keys, 4) + " "
	}
	text, style := expiryBadge(st, r, s.loadedAt)
	line += style.Render(st.pad(text, 12))
	if rotatedW > 0 {
		line += " " + st.Subtle.Render(st.pad(rotatedText(st, r), rotatedW))
	}
	if r.inProgress {
		line += " " + st.Accent.Render(st.Mark.InProgress)
	}
	return line
}

// rotatedText is the day a client's newest attached credential was created.
func rotatedText(st Styles, r *clientRow) string {
	switch {
	case r.pkjwt && !r.poolKnown:
		return st.Mark.Ellipsis
	case r.rotated.IsZero():
		return "-"
	}
	return r.rotated.Local().Format(time.DateOnly)
}

// expiryBadge is the text and style of a client's soonest expiry: red expired, orange within
// a week, yellow within 30 days, green later, dim none.
func expiryBadge(st Styles, r *clientRow, now time.Time) (string, lipgloss.Style) {
	switch {
	case !r.pkjwt:
		return "n/a", st.Dim
	case r.attached == 0:
		return "no key", st.Dim
	case !r.poolKnown:
		return st.Mark.Ellipsis, st.Dim
	case !r.hasExpiry:
		return "no expiry", st.Dim
	}
	left := r.expiry.Sub(now)
	urgent := ""
	if st.Plain {
		urgent = "!"
	}
	switch {
	case left <= 0:
		if st.Plain {
			return "EXPIRED", st.Expired
		}
		return "expired", st.Expired
	case left <= 7*24*time.Hour:
		return urgent + "in " + shortDuration(left), st.Soon
	case left <= 30*24*time.Hour:
		return urgent + "in " + shortDuration(left), st.Later
	}
	return "in " + shortDuration(left), st.Fine
}

// shortDuration is a coarse duration: 5h, 12d, 3y.
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", max(int(d.Minutes()), 1))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 3*365*24*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return fmt.Sprintf("%dy", int(d.Hours()/24/365))
}

func (s *clientsScreen) setSize(w, h int) {
	s.width, s.height = w, h
	s.scrollToCursor()
}

func (s *clientsScreen) helpKeys() help.KeyMap { return s.c.keys.ClientsHelp(s.filter.Focused()) }
func (s *clientsScreen) capturing() bool       { return s.filter.Focused() }
func (s *clientsScreen) busy() bool            { return false }
