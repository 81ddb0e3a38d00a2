package ui

import (
	"rekey/inventory"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"rekey/consumer"
	"rekey/steps"
	"rekey/tenant"
)

// Results of work done in Cmds. Messages that belong to one screen instance or one engine run
// carry its id (owner or run), so that late results of an earlier one are ignored.

// progressMsg is a progress line of Prepare.
type progressMsg struct{ text string }

// progressClosedMsg says Prepare will report no more progress.
type progressClosedMsg struct{}

// preparedMsg is Prepare's outcome.
type preparedMsg struct {
	backend Backend
	err     error
}

// inventoryMsg is one update of the client list's load; list holds a whole list's rows and sort
// orders, precomputed off the UI goroutine, when the update carries one. closed: the load ended.
type inventoryMsg struct {
	gen      int
	update   inventory.Update
	list     *clientList
	loadedAt time.Time
	closed   bool
}

// setupMsg is what the backend says about a client: its base options and known private keys.
type setupMsg struct {
	owner int
	opts  steps.Options
	known map[string]string
}

// clientMsg is a fresh read of one client.
type clientMsg struct {
	owner  int
	client tenant.Client
	err    error
}

// workspaceMsg is what the Terraform workspace says about a client's credentials resource.
type workspaceMsg struct {
	owner int
	info  workspaceInfo
}

// journalMsg is a client's rotation journal; nil journal: none in progress.
type journalMsg struct {
	owner   int
	journal *steps.Journal
	err     error
}

// keyCheckMsg is the result of one live token exchange.
type keyCheckMsg struct {
	owner    int
	role     string
	kid      string
	audience string // the audience used, once resolved from the client's grants
	result   tenant.CheckResult
}

// liveTickMsg asks the rotation screen to run its live checks again.
type liveTickMsg struct{ owner int }

// consumerMsg is a snapshot of the sandbox demo consumer's counters.
type consumerMsg struct {
	owner int
	stats *consumer.Stats
	at    time.Time
}

// engineEventMsg is one event of an engine run.
type engineEventMsg struct {
	run int
	ev  steps.Event
}

// questionMsg is a gate the engine asks about; the answer goes to reply (buffered, 1).
type questionMsg struct {
	run   int
	q     steps.Question
	reply chan<- steps.Answer
}

// engineDoneMsg ends an engine run (a rotation, or an abort).
type engineDoneMsg struct {
	run    int
	abort  bool
	result steps.Result
	err    error
}

// streamClosedMsg says an engine run's stream has ended.
type streamClosedMsg struct{ run int }

// Navigation: screens ask the root model to change screens.

// openClientMsg opens a client's screen.
type openClientMsg struct{ client tenant.Client }

// backMsg returns to the clients list, reloading it if asked.
type backMsg struct{ reload bool }

// backToClientMsg returns from the rotation form to the client's screen.
type backToClientMsg struct{}

// startRotationMsg opens the rotation screen for a client (resuming its journal, if any).
type startRotationMsg struct {
	client  tenant.Client
	journal *steps.Journal
	opts    steps.Options     // the backend's base options for the client
	known   map[string]string // kid → private key file
	current steps.CurrentKey  // the key being replaced, as far as it is known
}

// rotationFinishedMsg opens the done screen.
type rotationFinishedMsg struct{ summary doneSummary }

// quitMsg asks the root model to quit.
type quitMsg struct{}

// send is a Cmd that delivers msg.
func send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// editorDoneMsg says $EDITOR, opened on the edit the operator makes, has exited.
type editorDoneMsg struct{ err error }
