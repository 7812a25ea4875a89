package desk

import (
	"errors"

	"huimin/store"
)

// The kinds of refusal an operation returns; callers branch on them with
// errors.Is. A refused operation changes nothing.
var (
	// ErrNotFound: no ticket has that number.
	ErrNotFound = errors.New("ticket not found")
	// ErrNotYours: the officer may not do this to this ticket.
	ErrNotYours = errors.New("not the officer's ticket")
	// ErrWrongState: the ticket's state does not allow the operation.
	ErrWrongState = errors.New("not allowed in the ticket's state")
	// ErrInvalid: the input is missing or malformed.
	ErrInvalid = errors.New("invalid input")
)

// Refusal is an operation's typed error: which rule said no, with the facts
// a person needs to understand it. Reason is a machine-readable key (the
// chat layer renders the officer's sentence from it); Err is one of the
// sentinels above.
type Refusal struct {
	Op     Op
	Err    error
	Reason string
	Ticket string
	State  store.TicketState
	// Facts for the sentence: a name, a limit, a target …
	Facts map[string]any
}

func (r *Refusal) Error() string {
	s := string(r.Op) + " " + r.Ticket + ": " + r.Err.Error()
	if r.Reason != "" {
		s += " (" + r.Reason + ")"
	}
	return s
}

// Unwrap makes errors.Is(err, ErrNotYours) and friends work.
func (r *Refusal) Unwrap() error { return r.Err }

func refusal(op Op, err error, reason, ticket string, state store.TicketState, facts map[string]any) *Refusal {
	return &Refusal{Op: op, Err: err, Reason: reason, Ticket: ticket, State: state, Facts: facts}
}
