package store

import (
	"errors"
	"time"
)

// Errors of the ticket records.
var (
	// ErrExists is returned when creating a record whose ID is taken.
	ErrExists = errors.New("already exists")
	// ErrConflict is returned by UpdateTicket when the ticket changed since
	// it was read (its Version moved on); re-read and apply again.
	ErrConflict = errors.New("changed concurrently")
)

// TicketState is where a ticket is in the 12345 closed loop.
// InquiryPraise is the inquiry type of praise (表扬): filed at once for
// the officer named, it needs no handling and counts apart from the
// matters received (the other types are the 12345 rules': consult, help,
// complaint, report, suggestion).
const InquiryPraise = "praise"

type TicketState string

// Ticket states.
const (
	StateReceived   TicketState = "received"        // 受理: waiting to be assigned
	StateAssigned   TicketState = "assigned"        // 派单: assigned, not yet accepted
	StateInProgress TicketState = "in_progress"     // 办理
	StateWaiting    TicketState = "waiting_citizen" // 待补充: the officer asked the citizen for more
	StateResolved   TicketState = "resolved"        // 办结
	StateClosed     TicketState = "closed"          // 归档
	StateReopened   TicketState = "reopened"        // 整改: reopened after a bad review
	// StateTransferredOut is final: the matter went to an outside agency
	// (转外单位); it still counts in the results.
	StateTransferredOut TicketState = "transferred_out"
)

// Open reports whether the ticket still needs work.
func (s TicketState) Open() bool {
	switch s {
	case StateReceived, StateAssigned, StateInProgress, StateWaiting, StateReopened:
		return true
	}
	return false
}

// Ticket is one citizen's matter.
type Ticket struct {
	// ID is the readable number, e.g. MZ20261128-0042.
	ID            string `json:"id"`
	CitizenOpenID string `json:"citizen_openid"`
	// Line is the service line key (relief, veterans, …); Inquiry the type
	// (consult, help, complaint, report, suggestion).
	Line    string `json:"line"`
	Inquiry string `json:"inquiry"`
	// Summary is the citizen's description of the matter.
	Summary string `json:"summary"`
	// Fields are the other answers the flow collected, by field name;
	// Labels names each field as the flow asked for it (街道（镇）, 称呼 …).
	Fields map[string]string `json:"fields,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// Urgent matters get the shorter urgent deadline and tell the chief at once.
	Urgent bool `json:"urgent,omitempty"`
	// Phone and IDNumber are stored in full and shown masked.
	Phone    string `json:"phone,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	Name     string `json:"name,omitempty"`

	Attachments []Attachment `json:"attachments,omitempty"`
	Transcript  []Utterance  `json:"transcript,omitempty"`

	State      TicketState `json:"state"`
	Department string      `json:"department"`
	// Window is the service window (窗口) the ticket counts under in the
	// published results: the street office's where its town has one, else
	// its department's.
	Window string `json:"window,omitempty"`
	// Owner is the officer working the ticket now; FirstResponsible the
	// first officer who accepted it (首问负责), kept across transfers.
	Owner            string `json:"owner,omitempty"`
	FirstResponsible string `json:"first_responsible,omitempty"`
	// Agency is the outside agency the ticket was transferred to.
	Agency string `json:"agency,omitempty"`
	// Against is the officer a complaint is about (投诉): routing never
	// gives the ticket to them and they cannot read it.
	Against string `json:"against,omitempty"`
	// Confidential marks a report (举报): the reporter's name, phone and ID
	// number are shown only to the supervision office, and each look at
	// them is recorded.
	Confidential bool `json:"confidential,omitempty"`

	CreatedAt  time.Time `json:"created_at"`
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	// Deadline is when the ticket must be resolved, in working time.
	Deadline time.Time `json:"deadline,omitzero"`
	// Escalation counts the escalations sent after the deadline passed.
	Escalation int        `json:"escalation,omitempty"`
	Extension  *Extension `json:"extension,omitempty"`
	Resolution string     `json:"resolution,omitempty"`

	// Surveys are the return visits (回访), one per resolution, oldest
	// first; Rectifications the 整改 that bad reviews started.
	Surveys        []Survey        `json:"surveys,omitempty"`
	Rectifications []Rectification `json:"rectifications,omitempty"`

	History []TicketEvent `json:"history"`
	// Version is the optimistic-lock counter; UpdateTicket moves it on.
	Version int64 `json:"version"`
}

// Attachment is an image, location or other media sent while describing a matter.
type Attachment struct {
	Kind    string    `json:"kind"` // image, voice, video, location, link
	MediaID string    `json:"media_id,omitempty"`
	URL     string    `json:"url,omitempty"`
	Lat     float64   `json:"lat,omitempty"`
	Lng     float64   `json:"lng,omitempty"`
	Label   string    `json:"label,omitempty"`
	At      time.Time `json:"at"`
}

// Utterance is one line of the conversation about a ticket.
type Utterance struct {
	At time.Time `json:"at"`
	// From is "citizen", "bot" or an officer ID.
	From string `json:"from"`
	Text string `json:"text"`
}

// EventKind says what happened in a ticket's history, machine-readable;
// the words people read are rendered from it.
type EventKind string

// TicketEvent is one entry of a ticket's append-only history.
type TicketEvent struct {
	At time.Time `json:"at"`
	// Actor is an officer ID, "citizen" or "system".
	Actor string    `json:"actor"`
	Kind  EventKind `json:"action"`
	// Detail is the words that came with it: a reply, a reason, a result.
	Detail string `json:"detail,omitempty"`
	// Officer is the officer it concerns (assigned to, reminded, told).
	Officer string `json:"officer,omitempty"`
	// Department and Agency are where a transfer went.
	Department string `json:"department,omitempty"`
	Agency     string `json:"agency,omitempty"`
	// Days is an extension's length; Deadline the deadline set or passed.
	Days     int       `json:"days,omitempty"`
	Deadline time.Time `json:"deadline,omitzero"`
	// Outcome is the event's machine-readable result: a rating's level, a
	// visit's channel, a rectification's outcome.
	Outcome string `json:"outcome,omitempty"`
	// Ref is the due item that caused the event: a retried timer finds its
	// event already recorded by this ID.
	Ref string `json:"ref,omitempty"`
}

// Extension is a request to move a ticket's deadline (延期).
type Extension struct {
	Days        int       `json:"days"`
	Reason      string    `json:"reason"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	// Status is pending, approved or rejected.
	Status      string    `json:"status"`
	DecidedBy   string    `json:"decided_by,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	OldDeadline time.Time `json:"old_deadline,omitzero"`
}

// TicketFilter selects tickets; empty fields match everything. At least
// one of Owner, Department and Citizen must be set.
type TicketFilter struct {
	Owner      string
	Department string
	Citizen    string
	// OpenOnly keeps tickets whose State is Open.
	OpenOnly bool
}

// Survey is one return visit (回访) and its rating (好差评): sent after a
// resolution, answered once by the ticket's citizen.
type Survey struct {
	// Round counts the resolutions: 1, then 2 after a rectification …
	Round int `json:"round"`
	// Officer is the one credited: the owner when the survey was sent.
	Officer string    `json:"officer,omitempty"`
	Due     time.Time `json:"due"`
	SentAt  time.Time `json:"sent_at,omitzero"`
	// Channel is how it reached the citizen: chat (a customer-service
	// message), template, notice (subscribe notice) or phone (a task for
	// the chief: no channel worked).
	Channel    string    `json:"channel,omitempty"`
	RemindedAt time.Time `json:"reminded_at,omitzero"`
	// Level is the rating, 1 非常满意 … 5 非常不满意; 0 none (yet).
	Level   int    `json:"level,omitempty"`
	Comment string `json:"comment,omitempty"`
	// Via is where it was answered: chat, page, phone, or expired (no
	// answer in time; Level is then the configured no-answer level or 0).
	Via        string    `json:"via,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	// Excluded is set when an appeal (申诉复核) took the rating out of the
	// statistics; it stays here and in the history.
	Excluded bool    `json:"excluded,omitempty"`
	Appeal   *Appeal `json:"appeal,omitempty"`
}

// Answered reports whether the survey has its outcome (a rating, or the
// expiry's).
func (s Survey) Answered() bool { return s.Via != "" }

// Bad reports a 差评: 4 不满意 or 5 非常不满意.
func (s Survey) Bad() bool { return s.Level >= 4 }

// Appeal asks to exclude a mistaken or malicious rating (申诉复核).
type Appeal struct {
	Reason      string    `json:"reason"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	// Status is pending, approved or rejected.
	Status    string    `json:"status"`
	DecidedBy string    `json:"decided_by,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	Note      string    `json:"note,omitempty"`
}

// Rectification is the 整改 a bad review started: a named person verifies
// the complaint by VerifyBy (回访核实) and records how it was dealt with.
type Rectification struct {
	// Round is the survey round whose rating started it.
	Round    int       `json:"round"`
	Assignee string    `json:"assignee"`
	VerifyBy time.Time `json:"verify_by"`
	Due      time.Time `json:"due"`
	// Outcome is immediate (立行立改), scheduled (限期整改, by Promised) or
	// explained (解释说明); empty until recorded.
	Outcome    string    `json:"outcome,omitempty"`
	Promised   time.Time `json:"promised,omitzero"`
	Note       string    `json:"note,omitempty"`
	RecordedBy string    `json:"recorded_by,omitempty"`
	RecordedAt time.Time `json:"recorded_at,omitzero"`
}
