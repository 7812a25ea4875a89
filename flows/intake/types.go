package intake

import (
	"slices"
	"strings"
	"time"

	"huimin/store"
)

// Input kinds, as the engine maps WeChat message types and events.
const (
	KindText     = "text"
	KindVoice    = "voice" // Text is WeChat's recognition text
	KindImage    = "image"
	KindVideo    = "video"
	KindLocation = "location"
	KindLink     = "link"
	KindClick    = "click" // Key is the CLICK key of the account menu
)

// Outcome kinds.
const (
	OutcomeTicket   = "ticket"   // open a ticket with the collected fields
	OutcomeAnswer   = "answer"   // the matter was answered with a fixed text
	OutcomeHandover = "handover" // hand the citizen over to a person
)

// Commands returned by [Set.Command] and, for status, in [Result.Command].
const (
	CmdBack   = "back"
	CmdCancel = "cancel"
	CmdHuman  = "human"
	CmdHelp   = "help"
	CmdStatus = "status"
	CmdMenu   = "menu"
)

// State is where a citizen is in a conversation. The engine keeps it in the
// session between messages and passes it back unchanged; a zero State (no
// Flow) means no flow is running. Data may hold answers even then: images
// sent before a flow started, to attach to the next matter. Keys starting
// with "_" are the interpreter's own.
type State struct {
	Flow string            `json:"flow,omitempty"`
	Step string            `json:"step,omitempty"`
	Data map[string]string `json:"data,omitempty"`
	// Back is the path of steps answered so far, for 返回 and the summary.
	Back []string `json:"back,omitempty"`
}

// Input is one message or menu click from the citizen.
type Input struct {
	// Text is the message text, or WeChat's recognition text for voice.
	Text string
	// Key is the msgmenu option ID for a tapped option, or the CLICK key.
	Key string
	// Kind is one of the Kind constants; empty means text.
	Kind string
	// MediaID, URL and Label describe images, videos, locations and links.
	MediaID, URL, Label string
	Lat, Lng            float64
	// At is when the message arrived. Dates without a year, 明天, and the
	// past/future checks of date steps need it; a zero At skips them.
	At time.Time
	// Consented reports that the citizen agreed to the personal-information
	// notice before (the engine's durable record): the notice is not shown.
	Consented bool
}

// Prompt is one message to the citizen: a text, numbered options (sent as a
// WeChat msgmenu or as numbered lines) and a closing line.
type Prompt struct {
	Text    string
	Options []Choice
	Tail    string
}

// Choice is one numbered option of a prompt. IDs are "1", "2", … in order.
type Choice struct {
	ID   string
	Text string
}

// String renders the prompt as plain text with numbered lines, the form of
// a passive reply.
func (p Prompt) String() string {
	var b strings.Builder
	b.WriteString(p.Text)
	for _, o := range p.Options {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(o.ID + ". " + o.Text)
	}
	if p.Tail != "" {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Tail)
	}
	return b.String()
}

// Result is what one input leads to.
type Result struct {
	// State is the state to save, as is; zero when no flow is running.
	State State
	// Prompts are the messages to send, in order. They are empty when the
	// Outcome is a ticket or a handover: the engine then sends Outcome.Text
	// with its own acknowledgement (such as the ticket number).
	Prompts []Prompt
	// Outcome is set when a flow reached its end, or the citizen asked for
	// a person, or a knowledge-base answer was given.
	Outcome *Outcome
	// Command is CmdStatus when the citizen asked for their tickets: the
	// engine shows them before the Prompts (which repeat the question the
	// citizen was at, if any).
	Command string
	// Attachments are the media received with this input. They are also
	// kept in State and listed in the Outcome with the matter they belong to.
	Attachments []Attachment
	// Done reports that the flow that was running has ended (submitted,
	// answered, handed over, cancelled, or consent refused).
	Done bool
	// Consented reports that the citizen agreed to the personal-information
	// notice with this input: the engine records it with the time, and
	// passes Input.Consented from then on.
	Consented bool
	// Notice reports that the consent notice is shown, waiting for an
	// answer: an engine that has not looked for an earlier agreement may
	// look now, and step again with Input.Consented if it finds one.
	Notice bool
}

// Outcome is how a conversation ended, for the engine to act on.
type Outcome struct {
	Kind string // OutcomeTicket, OutcomeAnswer or OutcomeHandover
	// Flow is the flow ID ("" for the knowledge base and the main menu).
	Flow string
	// Intent is IntentUrgent for urgent need understood from free text.
	Intent string
	// Line is the service line key; Inquiry the inquiry type key.
	Line, Inquiry string
	// Summary is the matter in one short paragraph for the officer, with
	// no phone or ID number in it.
	Summary string
	// Fields are the answers by field name, in full, except the ones
	// given as Name, Phone and IDNumber; Labels names each field as the
	// flow asked for it (街道（镇）, 情况 …).
	Fields map[string]string
	Labels map[string]string
	// Urgent is set when an answer chosen was marked urgent.
	Urgent bool
	// Name, Phone and IDNumber are the answers to the steps saving "name"
	// and to the first phone and idcard steps, in full.
	Name, Phone, IDNumber string
	// Attachments are the media the citizen sent during the flow.
	Attachments []Attachment
	// Text is what to tell the citizen: the closing sentence of a ticket
	// or handover, or the answer.
	Text string
}

// Attachment is one image, video, location or link the citizen sent.
type Attachment struct {
	Kind    string    `json:"kind"`
	MediaID string    `json:"media_id,omitempty"`
	URL     string    `json:"url,omitempty"`
	Label   string    `json:"label,omitempty"`
	Lat     float64   `json:"lat,omitempty"`
	Lng     float64   `json:"lng,omitempty"`
	At      time.Time `json:"at,omitzero"`
}

// InquiryTypes lists the inquiry type keys of the 12345 rules: 咨询, 求助,
// 投诉, 举报 and 建议; and 表扬 (praise), recorded for the officer named.
func InquiryTypes() []string {
	return []string{"consult", "help", "complaint", "report", "suggestion", store.InquiryPraise}
}

// TimedInquiryTypes are the inquiry types with a time limit (限时办结):
// all but praise, which is filed at once.
func TimedInquiryTypes() []string {
	return slices.DeleteFunc(InquiryTypes(), func(q string) bool { return q == store.InquiryPraise })
}

// clone copies the state so that a Step never changes its caller's maps.
func (s State) clone() State {
	c := State{Flow: s.Flow, Step: s.Step, Data: make(map[string]string, len(s.Data)+2)}
	for k, v := range s.Data {
		c.Data[k] = v
	}
	c.Back = append([]string(nil), s.Back...)
	return c
}
