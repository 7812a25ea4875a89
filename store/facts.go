package store

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Facts are what the published results (满意率, 响应率, 解决率, on-time
// rate, 差评 and their rectification) count of one ticket: no citizen,
// no free text, nothing personal. Both stores keep them beside the ticket,
// written in the same step as the ticket itself and indexed by when it was
// received, so that results read a period's facts rather than every
// ticket.
type Facts struct {
	ID string `json:"id"`
	// Window is the service window (窗口) the ticket counts under.
	Window     string `json:"window,omitempty"`
	Department string `json:"department,omitempty"`
	Line       string `json:"line,omitempty"`
	Inquiry    string `json:"inquiry,omitempty"`
	Owner      string `json:"owner,omitempty"`
	// FirstResponsible is the first officer who took the matter (首问负责).
	FirstResponsible string      `json:"first_responsible,omitempty"`
	State            TicketState `json:"state"`
	Urgent           bool        `json:"urgent,omitempty"`
	CreatedAt        time.Time   `json:"created_at"`
	AcceptedAt       time.Time   `json:"accepted_at,omitzero"`
	ResolvedAt       time.Time   `json:"resolved_at,omitzero"`
	// Deadline is the ticket's current deadline: a granted extension has
	// moved it.
	Deadline       time.Time            `json:"deadline,omitzero"`
	Surveys        []SurveyFacts        `json:"surveys,omitempty"`
	Rectifications []RectificationFacts `json:"rectifications,omitempty"`
}

// SurveyFacts are the counted part of one return visit.
type SurveyFacts struct {
	Round   int    `json:"round"`
	Officer string `json:"officer,omitempty"`
	// Level is 1 非常满意 … 5 非常不满意, 0 none (yet, or 未评价 at expiry).
	Level    int    `json:"level,omitempty"`
	Via      string `json:"via,omitempty"`
	Excluded bool   `json:"excluded,omitempty"`
	// Commented says the citizen left a comment (its words stay in the
	// ticket).
	Commented bool `json:"commented,omitempty"`
}

// RectificationFacts are the counted part of one 整改.
type RectificationFacts struct {
	Round    int       `json:"round"`
	Assignee string    `json:"assignee,omitempty"`
	Due      time.Time `json:"due,omitzero"`
	// Outcome is empty until recorded (immediate, scheduled, explained).
	Outcome    string    `json:"outcome,omitempty"`
	RecordedAt time.Time `json:"recorded_at,omitzero"`
}

// FactsOf returns the facts of t. The stores call it on every write of a
// ticket; it copies, so the facts share no memory with t.
func FactsOf(t Ticket) Facts {
	f := Facts{
		ID: t.ID, Window: t.Window, Department: t.Department, Line: t.Line, Inquiry: t.Inquiry,
		Owner: t.Owner, FirstResponsible: t.FirstResponsible, State: t.State, Urgent: t.Urgent,
		CreatedAt: t.CreatedAt, AcceptedAt: t.AcceptedAt, ResolvedAt: t.ResolvedAt, Deadline: t.Deadline,
	}
	for _, s := range t.Surveys {
		f.Surveys = append(f.Surveys, SurveyFacts{Round: s.Round, Officer: s.Officer, Level: s.Level, Via: s.Via, Excluded: s.Excluded,
			Commented: s.Comment != ""})
	}
	for _, r := range t.Rectifications {
		f.Rectifications = append(f.Rectifications, RectificationFacts{
			Round: r.Round, Assignee: r.Assignee, Due: r.Due, Outcome: r.Outcome, RecordedAt: r.RecordedAt,
		})
	}
	return f
}

// factsRevision counts changes in how FactsOf derives a field that keep
// Facts' shape: bump it with such a change, so that the stores build
// their index again.
const factsRevision = 1

// FactsVersion names the facts as this build writes them: a digest of
// Facts' shape (its fields, JSON names and kinds, nested) and
// factsRevision. The stores record the version their index was built for
// and build it again, once, when they find another, so that a field added
// to Facts reaches the facts of tickets not written since.
func FactsVersion() string {
	return typeDigest(reflect.TypeFor[Facts]()) + "." + strconv.Itoa(factsRevision)
}

// typeDigest is 16 hex digits of a digest of t's shape: its fields'
// names, JSON names and kinds, nested.
func typeDigest(t reflect.Type) string {
	var b strings.Builder
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		switch t.Kind() {
		case reflect.Struct:
			if t == reflect.TypeFor[time.Time]() {
				b.WriteString("time")
				return
			}
			b.WriteByte('{')
			for f := range t.Fields() {
				b.WriteString(f.Name + " " + f.Tag.Get("json") + " ")
				walk(f.Type)
				b.WriteByte(';')
			}
			b.WriteByte('}')
		case reflect.Slice, reflect.Array, reflect.Pointer:
			b.WriteString("[]")
			walk(t.Elem())
		case reflect.Map:
			b.WriteString("map[")
			walk(t.Key())
			b.WriteByte(']')
			walk(t.Elem())
		default:
			b.WriteString(t.Kind().String())
		}
	}
	walk(t)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}
